//! Property tests of the payment status state machine: whatever sequence of
//! observations arrives (duplicated, reordered, stale), the stored status
//! only moves forward, never leaves a final status, and ends at the
//! provider's real status once that status has been observed.

use crate::stage;
use checkout::{PaymentStatus, StatusChange};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

fn any_status() -> impl Strategy<Value = PaymentStatus> {
    prop::sample::select(PaymentStatus::ALL.to_vec())
}

/// A path the provider can really take: open, maybe pending or authorized,
/// then a final status.
fn provider_history() -> impl Strategy<Value = Vec<PaymentStatus>> {
    use PaymentStatus::*;
    (
        prop::option::of(prop::sample::select(vec![Pending, Authorized])),
        prop::sample::select(vec![Paid, Failed, Canceled, Expired]),
    )
        .prop_map(|(middle, last)| {
            let mut history = vec![Open];
            history.extend(middle);
            history.push(last);
            history
        })
}

fn apply_all(observations: &[PaymentStatus]) -> (PaymentStatus, usize) {
    let mut status = PaymentStatus::Created;
    let mut advanced = 0;
    for &observed in observations {
        let before = status;
        match status.observe(observed) {
            StatusChange::Advanced(next) => {
                assert!(
                    stage(next) > stage(before),
                    "{before} -> {next} is not forward"
                );
                assert!(!before.is_final(), "left the final status {before}");
                status = next;
                advanced += 1;
            }
            StatusChange::Unchanged => assert_eq!(observed, status),
            StatusChange::Stale => assert!(stage(observed) <= stage(status)),
        }
    }
    (status, advanced)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_observations_only_move_forward(observations in prop::collection::vec(any_status(), 0..40)) {
        let (_, advanced) = apply_all(&observations);
        // Four stages: at most three steps forward from `created`.
        prop_assert!(advanced <= 3);
    }

    /// Webhooks (each a read of the provider's status at some moment) are
    /// duplicated and shuffled; one of them saw the final status.
    #[test]
    fn shuffled_duplicated_observations_end_at_the_providers_final_status(
        history in provider_history(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
        seed in any::<u64>(),
    ) {
        let mut observations: Vec<PaymentStatus> = picks.iter().map(|i| *i.get(&history)).collect();
        let final_status = *history.last().unwrap();
        observations.push(final_status);
        // A deterministic shuffle from the seed.
        observations.shuffle(&mut StdRng::seed_from_u64(seed));
        let (status, _) = apply_all(&observations);
        prop_assert_eq!(status, final_status);
    }
}

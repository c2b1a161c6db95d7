//! The language of the provider's checkout page, from the shopper's
//! browser (`Accept-Language`), among the locales Mollie supports.

/// Mollie's payment locales.
pub const SUPPORTED_LOCALES: [&str; 22] = [
    "en_US", "en_GB", "nl_NL", "nl_BE", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_BE", "es_ES",
    "ca_ES", "pt_PT", "it_IT", "nb_NO", "sv_SE", "fi_FI", "da_DK", "is_IS", "hu_HU", "pl_PL",
    "lv_LV", "lt_LT",
];

/// Most `Accept-Language` entries looked at: the header is the caller's.
const MAX_ENTRIES: usize = 16;

/// One of [`SUPPORTED_LOCALES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Locale(&'static str);

impl Locale {
    /// `nl_BE` (Mollie's spelling) or `nl-BE` (a language tag), any case.
    pub fn parse(text: &str) -> Option<Self> {
        let (language, region) = text.split_once(['_', '-'])?;
        SUPPORTED_LOCALES
            .iter()
            .find(|locale| {
                locale
                    .get(..2)
                    .is_some_and(|l| l.eq_ignore_ascii_case(language))
                    && locale
                        .get(3..)
                        .is_some_and(|r| r.eq_ignore_ascii_case(region))
            })
            .map(|locale| Self(locale))
    }

    /// The language's own country when only a language is known (`nl` ->
    /// `nl_NL`, `en` -> `en_US`; Norwegian `no`/`nb` -> `nb_NO`).
    fn of_language(language: &str) -> Option<Self> {
        let language = match language.to_ascii_lowercase().as_str() {
            "no" | "nn" => "nb".to_owned(),
            other => other.to_owned(),
        };
        SUPPORTED_LOCALES
            .iter()
            .find(|locale| locale.starts_with(&format!("{language}_")))
            .map(|locale| Self(locale))
    }

    /// The shopper's most preferred language that Mollie supports: an
    /// exact match of a tag, else its language in the language's own
    /// country. `None` when none is (the provider then picks).
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut entries: Vec<(f32, &str)> = header
            .split(',')
            .take(MAX_ENTRIES)
            .filter_map(|entry| {
                let mut parts = entry.split(';');
                let tag = parts.next()?.trim();
                let weight = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (weight > 0.0 && !tag.is_empty() && tag != "*").then_some((weight, tag))
            })
            .collect();
        // Stable: equal weights keep the browser's order.
        entries.sort_by(|a, b| b.0.total_cmp(&a.0));
        entries.into_iter().find_map(|(_, tag)| {
            Self::parse(tag).or_else(|| Self::of_language(tag.split(['-', '_']).next()?))
        })
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(header: &str) -> Option<&'static str> {
        Locale::from_accept_language(header).map(Locale::as_str)
    }

    #[test]
    fn the_most_preferred_supported_language_wins() {
        assert_eq!(pick("nl-BE,nl;q=0.9,en;q=0.8"), Some("nl_BE"));
        assert_eq!(pick("de"), Some("de_DE"));
        assert_eq!(pick("en-AU,en;q=0.9"), Some("en_US"));
        assert_eq!(pick("ja,fr;q=0.5"), Some("fr_FR"));
        assert_eq!(pick("fr;q=0.4, de-CH;q=0.8"), Some("de_CH"));
        assert_eq!(pick("no"), Some("nb_NO"));
    }

    #[test]
    fn nothing_supported_leaves_the_choice_to_the_provider() {
        assert_eq!(pick(""), None);
        assert_eq!(pick("*"), None);
        assert_eq!(pick("ja,zh-CN;q=0.8"), None);
        assert_eq!(pick("nl;q=0"), None);
        assert_eq!(pick("nl;q=banana"), None);
    }

    #[test]
    fn mollies_spelling_and_language_tags_both_parse() {
        assert_eq!(Locale::parse("nl_BE").map(Locale::as_str), Some("nl_BE"));
        assert_eq!(Locale::parse("NL-be").map(Locale::as_str), Some("nl_BE"));
        assert_eq!(Locale::parse("xx_YY"), None);
        assert_eq!(Locale::parse("nl"), None);
    }
}

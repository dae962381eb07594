//! Word lists: units that may follow a quantity, and words that are whole answers.

/// Units and counted nouns that a model may write after a number (`5 cm`, `12 dollars`).
const UNIT_WORDS: &[&str] = &[
    "mm",
    "cm",
    "km",
    "meter",
    "meters",
    "metre",
    "metres",
    "centimeter",
    "centimeters",
    "millimeter",
    "millimeters",
    "kilometer",
    "kilometers",
    "inch",
    "inches",
    "ft",
    "foot",
    "feet",
    "yd",
    "yard",
    "yards",
    "mile",
    "miles",
    "mi",
    "mph",
    "kph",
    "kg",
    "gram",
    "grams",
    "kilogram",
    "kilograms",
    "lb",
    "lbs",
    "pound",
    "pounds",
    "oz",
    "ounce",
    "ounces",
    "ton",
    "tons",
    "sec",
    "second",
    "seconds",
    "minute",
    "minutes",
    "min",
    "mins",
    "hr",
    "hrs",
    "hour",
    "hours",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "dollar",
    "dollars",
    "cent",
    "cents",
    "euro",
    "euros",
    "unit",
    "units",
    "square",
    "sq",
    "cubic",
    "liter",
    "liters",
    "litre",
    "litres",
    "ml",
    "gallon",
    "gallons",
    "quart",
    "quarts",
    "cup",
    "cups",
    "people",
    "persons",
    "students",
    "ways",
    "times",
    "items",
    "pages",
    "marbles",
    "coins",
    "points",
    "steps",
    "handshakes",
    "games",
    "numbers",
    "integers",
    "digits",
    "outfits",
    "arrangements",
    "pieces",
];

/// Words that are complete answers rather than products of single-letter variables.
const ANSWER_WORDS: &[&str] = &[
    "odd", "yes", "no", "all", "none", "both", "neither", "even", "true", "false",
];

pub(crate) fn is_unit_word(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    UNIT_WORDS.contains(&lower.as_str())
}

pub(crate) fn is_answer_word(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    ANSWER_WORDS.contains(&lower.as_str())
}

/// Whether prose written next to a quantity names a degree unit.
pub(crate) fn is_degree_word(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "degree" | "degrees" | "deg" | "°"
    )
}

/// Whether prose written next to a quantity is a percent sign in words.
pub(crate) fn is_percent_word(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "percent" | "%" | "pct"
    )
}

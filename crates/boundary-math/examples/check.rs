//! Prints the verdict for one pair: `cargo run --example check -- GOLD RESPONSE`.
fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let config = boundary_math::MathConfig::default();
    let verdict = boundary_math::verify(&arguments[1], &arguments[2], &config);
    println!("{verdict:#?}");
}

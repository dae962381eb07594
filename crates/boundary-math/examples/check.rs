//! Prints the verdict for one pair and how long it took:
//! `cargo run --release --example check -- GOLD RESPONSE`.
fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let (Some(gold), Some(response)) = (arguments.get(1), arguments.get(2)) else {
        eprintln!("usage: check GOLD RESPONSE");
        std::process::exit(2);
    };
    let config = boundary_math::MathConfig::default();
    let start = std::time::Instant::now();
    let verdict = boundary_math::verify(gold, response, &config);
    let elapsed = start.elapsed();
    println!("{verdict:#?}\n{elapsed:?}");
}

fn main() {
    std::process::exit(fleetrmi::run());
}

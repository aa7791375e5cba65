fn main() {
    std::process::exit(zuora_sync::cli::main());
}

fn main() -> std::process::ExitCode {
    officebox::cli::run()
}

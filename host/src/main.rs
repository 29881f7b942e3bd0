//! The `angora` command.

fn main() -> std::process::ExitCode {
    angora_host::cli::main()
}

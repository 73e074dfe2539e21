//! The `newsdesk` binary. Its commands (`serve`, `migrate`) are being written; until they
//! land it only says so, rather than pretending to serve.

fn main() {
    eprintln!("newsdesk: the serve and migrate commands are not built yet (see README.md)");
    std::process::exit(2);
}

//! The `usersync` command (being written).

fn main() {
    println!("usersync is being built");
}

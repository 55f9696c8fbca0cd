import TokendCLI

/// The process entry point (not in main.swift: an async `@main` there would run nothing).
@main
enum Entry {
    static func main() async {
        await TokendCommand.main()
    }
}

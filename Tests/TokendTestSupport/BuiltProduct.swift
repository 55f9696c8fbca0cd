import Foundation

/// The executables this package builds, found beside the test bundle in the build folder.
public enum BuiltProduct {
    /// The path of product `name` (`imanage-tokend`, `imanage-emulator`).
    public static func url(_ name: String) -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent(name)
    }
}

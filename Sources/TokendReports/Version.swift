/// The version of imanage-tokend: the one string `--version`, the start-up log line, `status`
/// (its first line and `daemon.version` in the JSON) and the Debian package
/// (`scripts/package-deb` reads it from `imanage-tokend --version`) all show.
///
/// Bumped by hand in a release commit: edit this constant (semantic versioning: the minor for a
/// new feature or a changed default, the patch for a fix), and that commit is the release.
public enum TokendVersion {
    public static let current = "0.9.0"
}

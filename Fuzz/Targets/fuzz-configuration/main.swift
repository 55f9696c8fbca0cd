import CLibFuzzer
import Foundation
import TokendConfig
import TokendPolicy
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer target: the configuration text, read and checked as `check-config` and the daemon
// read it (TOML syntax, every table, every rule), through `TokendConfiguration.load(contents:path:)`.
// An input is the text of the file. The files it may name are set up once in a scratch
// directory: the example configuration's key and fake secrets, as relative paths next to the
// (not existing) configuration file and in $CREDENTIALS_DIRECTORY, so that valid inputs load.
// Besides "no crash", a loaded configuration and every error are checked; a broken property
// stops with `fatalError`, which libFuzzer records as a crash with its input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfiguration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let contents = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let configuration = try TokendConfiguration.load(
            contents: contents, path: scratch.configFile, environment: ["CREDENTIALS_DIRECTORY": scratch.credentials])
        check(configuration, text: String(decoding: contents, as: UTF8.self))
        if verbose { FileHandle.standardError.write(Data("loaded: \(configuration.organisations.count) organisations\n".utf8)) }
    } catch {
        check(error, contents: contents)
        if verbose { FileHandle.standardError.write(Data("refused:\n\(error)\n".utf8)) }
    }
    return 0
}

/// TOKEND_FUZZ_VERBOSE=1: say what became of each input (to see which seeds load).
private let verbose = ProcessInfo.processInfo.environment["TOKEND_FUZZ_VERBOSE"] == "1"

/// The scratch directory with the files a configuration may name, made once per process.
private struct Scratch: Sendable {
    var configFile: String
    var credentials: String
    /// Every secret the files hold: none may ever show in an error.
    var secrets: [String]

    init() {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-fuzz-\(getpid())").path
        let example = root + "/example-credentials", credentials = root + "/credentials"
        let files: [String: String] = [
            example + "/token.key": "fuzz-key-0123456789abcdefghijklm",  // 32 bytes
            example + "/cloud-client-secret": "fuzz-secret-cloud-7f3a9c\n",
            example + "/onprem-client-secret": "fuzz-secret-onprem-51be04\n",
            credentials + "/token.key": "fuzz-key-nopqrstuvwxyz9876543210",
            credentials + "/acme-secret": "fuzz-secret-acme-c0ffee\n",
        ]
        for (path, text) in files {
            try? FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                fatalError("cannot write the fuzzer's scratch file \(path)")
            }
        }
        configFile = root + "/imanage-tokend.toml"
        self.credentials = credentials
        secrets = files.values.map { $0.trimmingCharacters(in: .newlines) }
    }
}

private let scratch = Scratch()

// MARK: Properties of a loaded configuration

private func check(_ configuration: TokendConfiguration, text: String) {
    checkBase(configuration.publicURL, "public_url")
    guard configuration.redirectURL.absoluteString == configuration.publicURL.absoluteString + "/oauth/callback" else {
        fatalError("the redirect URL is not public_url + /oauth/callback")
    }
    for path in [configuration.database, configuration.apiSocket, configuration.keyFile] {
        guard path.hasPrefix("/") else { fatalError("a path was left relative") }
    }
    guard configuration.apiSocket.utf8.count <= 107 else { fatalError("a socket path longer than sun_path was accepted") }
    guard configuration.key.count == 32 else { fatalError("a key of \(configuration.key.count) bytes was accepted") }
    guard (1...65535).contains(configuration.listen.port), !configuration.listen.host.isEmpty else {
        fatalError("listen address \(configuration.listen) was accepted")
    }
    check(configuration.refresh)
    let shown = configuration.effectiveDescription()
    // A secret the input itself spells out (as a client id, say) may be shown; one read from a file may not.
    for secret in scratch.secrets where shown.contains(secret) && !text.contains(secret) {
        fatalError("check-config's description shows the contents of a secret file")
    }
    var names: Set<String> = []
    for organisation in configuration.organisations {
        guard !organisation.name.isEmpty, names.insert(organisation.name).inserted else {
            fatalError("an empty or repeated organisation name was accepted")
        }
        for (url, key) in [(organisation.authorizationBase, "authorization_url"), (organisation.tokenBase, "token_url"),
                           (organisation.endpointBase, "endpoint_url")] {
            checkBase(url, key)
        }
        // The iManage URLs are built from the bases; building them must not trap.
        let derived = [
            organisation.authorizeURL, organisation.tokenURL, organisation.discoveryURL,
            organisation.librariesURL(customerID: organisation.name),
            organisation.nrtadminMembersURL(customerID: organisation.name, library: organisation.clientID),
        ]
        let bases = [organisation.authorizationBase, organisation.tokenBase, organisation.endpointBase,
                     organisation.endpointBase, organisation.endpointBase]
        for (url, base) in zip(derived, bases) where url.host != base.host || url.scheme != base.scheme {
            fatalError("an iManage URL left its base's scheme or host")
        }
        guard !organisation.clientID.isEmpty, !organisation.clientSecret.reveal().isEmpty else {
            fatalError("an organisation without a client id or secret was accepted")
        }
    }
}

/// A base URL: https, or http on a loopback host; no user, query or fragment; no trailing slash.
private func checkBase(_ url: URL, _ key: String) {
    guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false), let host = components.host,
          !host.isEmpty else {
        fatalError("\(key) was accepted without a host")
    }
    let scheme = components.scheme ?? ""
    guard scheme == "https" || (scheme == "http" && isLoopback(host)) else {
        fatalError("\(key) was accepted with scheme \(scheme) on a host that is not loopback")
    }
    guard components.user == nil, components.password == nil, components.query == nil, components.fragment == nil else {
        fatalError("\(key) was accepted with a user, password, query or fragment")
    }
    guard !url.absoluteString.hasSuffix("/") else { fatalError("\(key) kept a trailing slash") }
}

/// Loopback as the resolver sees a numeric host (inet_aton and inet_pton), independent of the
/// configuration's own rule.
private func isLoopback(_ host: String) -> Bool {
    var host = host.lowercased()
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    if host == "localhost" || host == "localhost." { return true }
    var v4 = in_addr()
    if inet_aton(host, &v4) != 0 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, host, &v6) == 1 {
        return withUnsafeBytes(of: &v6) { Array($0) } == Array(repeating: 0, count: 15) + [1]
    }
    return false
}

/// The `[refresh]` values within the ranges the README documents.
private func check(_ refresh: RefreshSettings) {
    let inRange = (0.1...0.9).contains(refresh.refreshAtFraction) && (0...0.5).contains(refresh.jitterFraction)
        && refresh.minimumInterval > 0 && refresh.backoffInitial > 0 && refresh.backoffMaximum > 0
        && refresh.retryAfterMaximum > 0 && refresh.refreshTokenLifetime > 0 && refresh.refreshTokenWarning >= 0
        && refresh.defaultAccessTokenLifetime > 0 && refresh.connectTimeout > 0 && refresh.requestTimeout > 0
        && refresh.nrtadminCheckInterval > 0 && refresh.startupRefreshesPerSecond > 0
        && (1...10_000).contains(refresh.maxConcurrentRefreshes)
    let finite = [refresh.refreshAtFraction, refresh.jitterFraction, refresh.minimumInterval, refresh.backoffInitial,
                  refresh.backoffMaximum, refresh.retryAfterMaximum, refresh.refreshTokenLifetime, refresh.refreshTokenWarning,
                  refresh.defaultAccessTokenLifetime, refresh.connectTimeout, refresh.requestTimeout,
                  refresh.nrtadminCheckInterval, refresh.startupRefreshesPerSecond].allSatisfy(\.isFinite)
    guard inRange, finite else { fatalError("a [refresh] value out of its range was accepted") }
}

// MARK: Properties of a refusal

/// Every problem has a message, a line inside the file (when it has one), and no secret.
private func check(_ error: ConfigurationError, contents: [UInt8]) {
    guard !error.problems.isEmpty else { fatalError("a configuration was refused with no problem") }
    let lines = contents.lazy.filter { $0 == 0x0A }.count + 1
    let text = String(decoding: contents, as: UTF8.self)
    for problem in error.problems {
        guard !problem.message.isEmpty else { fatalError("a problem without a message") }
        if let line = problem.line, !(1...lines).contains(line) {
            fatalError("a problem at line \(line) of a file of \(lines) lines")
        }
        if let column = problem.column, column < 1 { fatalError("a problem at column \(column)") }
        // A secret the input itself spells out may be quoted back; one read from a file may not.
        for secret in scratch.secrets where problem.description.contains(secret) && !text.contains(secret) {
            fatalError("a problem shows the contents of a secret file")
        }
    }
}

// MARK: Start (last: top-level globals above are set up in order before this runs)
// libFuzzer's own `main` is not linked (see Package.swift): start its driver here.
var argumentCount = CommandLine.argc
var argumentValues = Optional(CommandLine.unsafeArgv)
exit(LLVMFuzzerRunDriver(&argumentCount, &argumentValues, fuzzConfiguration))

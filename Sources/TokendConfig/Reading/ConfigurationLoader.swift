import Foundation
import TokendPolicy

/// Reads one configuration file: the file, its TOML, then every table, collecting every
/// problem before giving up, so the administrator sees them all at once.
struct ConfigurationLoader {
    static let maximumFileSize = 1024 * 1024
    static let knownTopLevelKeys = [
        "database", "key_file", "public_url", "listen", "api_socket", "ca_file",
        "refresh", "cloud_application", "organisation",
        "api_socket_group", "api_client", "metrics_listen", "metrics_per_grant", "history", "notify",
        "database_password_file",
    ]
    static let defaultDatabase = "/var/lib/imanage-tokend/tokend.sqlite"
    static let defaultKeyFile = "token.key"
    static let defaultListen = "127.0.0.1:8080"
    static let defaultAPISocket = "/run/imanage-tokend/api.sock"
    /// The longest path a Unix socket address holds (`sun_path` is 108 bytes with its final NUL).
    static let maximumSocketPathLength = 107

    let path: String
    let files: ConfigFiles
    let problems: ProblemCollector
    let secrets: SecretLoading

    init(path: String, environment: [String: String], secrets: SecretLoading = .read) {
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        self.path = (absolute as NSString).standardizingPath
        files = ConfigFiles(configFile: self.path, environment: environment, readsSecrets: secrets == .read)
        self.secrets = secrets
        problems = ProblemCollector(file: self.path)
    }

    /// Reads the file at `path`, then checks it.
    func load() throws(ConfigurationError) -> TokendConfiguration {
        guard let bytes = readFile() else { throw problems.error() }
        return try load(contents: bytes)
    }

    /// Checks `contents` as if read from the file at `path` (which need not exist): relative
    /// paths resolve against its directory, and problems name it.
    func load(contents bytes: [UInt8]) throws(ConfigurationError) -> TokendConfiguration {
        guard let text = decode(bytes), let document = parse(text) else { throw problems.error() }
        let root = ConfigTable(table: document, keyPrefix: "", tableName: "the top level", problems: problems)
        root.reportUnknownKeys(known: Self.knownTopLevelKeys)

        let databaseSetting = DatabaseReader(root: root, files: files, defaultDatabase: Self.defaultDatabase).read()
        let database = databaseSetting?.setting
        let key = readKey(root)
        let publicURL = readPublicURL(root)
        let listen = readListen(root)
        let apiSocket = readAPISocket(root)
        let caFile = readCAFile(root)
        let refresh = subtable(root, "refresh").map { RefreshSettingsReader(table: $0).read() } ?? RefreshSettings()
        let cloudTable = subtable(root, "cloud_application")
        let cloudApplication = cloudTable.flatMap { ClientCredentialsReader(table: $0, files: files).readCloudApplication() }
        let organisations = readOrganisations(root, cloudApplication: cloudApplication, hasCloudApplicationTable: root.contains("cloud_application"))
        OrganisationSharingRules(problems: problems).check(organisations)
        let apiClientReader = APIClientReader(root: root, problems: problems)
        let (apiSocketGroup, apiClients) = (apiClientReader.readSocketGroup(), apiClientReader.read())
        let metricsListen = readMetricsListen(root)
        let metricsPerGrant = root.boolean("metrics_per_grant")?.value ?? true
        let history = subtable(root, "history").map { HistorySettingsReader(table: $0).read() } ?? HistorySettings()
        let notify = subtable(root, "notify").flatMap { NotifyReader(table: $0, files: files).read() }

        guard problems.isEmpty, let database, let key, let publicURL, let listen, let apiSocket else {
            throw problems.error()
        }
        var configuration = TokendConfiguration(
            path: path, database: database, key: key.key, keyFile: key.path, publicURL: publicURL,
            listen: listen, apiSocket: apiSocket, caFile: caFile, refresh: refresh,
            cloudApplication: cloudApplication, organisations: organisations)
        (configuration.apiSocketGroup, configuration.apiClients) = (apiSocketGroup, apiClients)
        configuration.secretsRead = secrets == .read
        (configuration.metricsListen, configuration.metricsPerGrant) = (metricsListen ?? nil, metricsPerGrant)
        configuration.history = history
        configuration.secretFiles = files.ledger.references
        configuration.notify = notify
        configuration.postgres = databaseSetting?.postgres
        (configuration.databasePassword, configuration.databasePasswordFile) =
            (databaseSetting?.password?.secret, databaseSetting?.password?.path)
        return configuration
    }

    // MARK: The file

    private func readFile() -> [UInt8]? {
        let hint = "give the right file with --config FILE or $IMANAGE_TOKEND_CONFIG"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            problems.add(line: nil, key: "", "configuration file not found; \(hint)")
            return nil
        }
        guard !isDirectory.boolValue else {
            problems.add(line: nil, key: "", "is a directory, not a configuration file; \(hint)")
            return nil
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= Self.maximumFileSize else {
            problems.add(line: nil, key: "", "is \(size) bytes, too large for a configuration file (at most \(Self.maximumFileSize)); \(hint)")
            return nil
        }
        guard FileManager.default.isReadableFile(atPath: path), let data = FileManager.default.contents(atPath: path) else {
            problems.add(line: nil, key: "", "cannot read the configuration file (permission denied?): make it readable by the user imanage-tokend runs as")
            return nil
        }
        return Array(data)
    }

    private func decode(_ bytes: [UInt8]) -> String? {
        guard bytes.count <= Self.maximumFileSize else {
            problems.add(line: nil, key: "",
                "is \(bytes.count) bytes, too large for a configuration file (at most \(Self.maximumFileSize))")
            return nil
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            problems.add(line: Self.lineOfFirstInvalidUTF8(in: bytes), key: "",
                "the configuration file is not UTF-8 text: save it as UTF-8")
            return nil
        }
        return text
    }

    private func parse(_ text: String) -> TOMLTable? {
        do {
            return try TOMLReader.parse(text)
        } catch {
            problems.add(line: error.position.line, column: error.position.column, key: "", "TOML syntax: \(error.message)")
            return nil
        }
    }

    /// The line holding the first byte that is not valid UTF-8.
    static func lineOfFirstInvalidUTF8(in bytes: [UInt8]) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var line = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1 && encoded.first == 0x0A { line += 1 }
            case .emptyInput, .error:
                return line
            }
        }
    }

    // MARK: Top-level keys

    private func subtable(_ root: ConfigTable, _ key: String) -> ConfigTable? {
        guard let entry = root.table[key] else { return nil }
        guard case .table(let table) = entry.value else {
            root.problem(key, "expected a table: write [\(key)] on a line of its own, followed by its keys")
            return nil
        }
        return ConfigTable(table: table, keyPrefix: "[\(key)].", tableName: "[\(key)]", problems: problems)
    }

    /// A path key: relative values resolve against the configuration file's directory.
    private func readPath(_ root: ConfigTable, _ key: String, default defaultValue: String) -> String? {
        guard root.contains(key) else { return files.absolutePath(defaultValue) }
        guard let value = root.string(key, expected: "a file path in quotes") else { return nil }
        guard !value.value.isEmpty else {
            root.problem(key, "is empty: expected a file path in quotes (or remove it for the default \(defaultValue))")
            return nil
        }
        return files.absolutePath(value.value)
    }

    private func readKey(_ root: ConfigTable) -> (path: String, key: SecretBytes?)? {
        let name: String
        if root.contains("key_file") {
            guard let value = root.string("key_file", expected: "the name of the file that holds the 32-byte key") else { return nil }
            name = value.value
        } else {
            name = Self.defaultKeyFile
        }
        files.ledger.record(key: "key_file", name: name, files: files)
        guard files.readsSecrets else {
            if secrets == .keyIfReadable, let readable = try? files.readKey(named: name) { return (readable.path, readable.key) }
            return (files.locatedSecretPath(named: name), nil)
        }
        do {
            return try files.readKey(named: name)
        } catch {
            root.problem("key_file", error.message)
            return nil
        }
    }

    private func readPublicURL(_ root: ConfigTable) -> URL? {
        let expected = "the address people use to reach this daemon's pages, like \"https://tokend.example.com\""
        guard root.contains("public_url") else {
            problems.add(line: nil, key: "public_url",
                "required: \(expected); the redirect URL to register in iManage is public_url + /oauth/callback")
            return nil
        }
        guard let value = root.string("public_url", expected: expected) else { return nil }
        do {
            return try BaseURLRule.check(value.value)
        } catch {
            root.problem("public_url", error.message)
            return nil
        }
    }

    private func readListen(_ root: ConfigTable) -> ListenAddress? {
        guard root.contains("listen") else { return ListenAddress(Self.defaultListen) }
        guard let value = root.string("listen", expected: "host:port in quotes, like \"127.0.0.1:8080\"") else { return nil }
        do {
            return try ListenAddress.parse(value.value)
        } catch {
            root.problem("listen", error.message)
            return nil
        }
    }

    /// `metrics_listen`: the outer optional is `nil` after a problem, the inner when not written.
    private func readMetricsListen(_ root: ConfigTable) -> ListenAddress?? {
        guard root.contains("metrics_listen") else { return .some(nil) }
        guard let value = root.string("metrics_listen", expected: "host:port in quotes, like \"127.0.0.1:9464\"") else { return nil }
        do {
            return .some(try ListenAddress.parse(value.value))
        } catch {
            root.problem("metrics_listen", error.message)
            return nil
        }
    }

    private func readAPISocket(_ root: ConfigTable) -> String? {
        guard let path = readPath(root, "api_socket", default: Self.defaultAPISocket) else { return nil }
        guard path.utf8.count <= Self.maximumSocketPathLength else {
            root.problem("api_socket",
                "the path is \(path.utf8.count) bytes long, but a Unix socket path holds at most \(Self.maximumSocketPathLength): choose a shorter path")
            return nil
        }
        return path
    }

    private func readCAFile(_ root: ConfigTable) -> String? {
        guard let value = root.string("ca_file", expected: "the path of a PEM file of CA certificates, in quotes") else { return nil }
        do {
            return try files.checkCertificateFile(value.value)
        } catch {
            root.problem("ca_file", error.message)
            return nil
        }
    }

    // MARK: Organisations

    private func readOrganisations(
        _ root: ConfigTable, cloudApplication: ClientCredentialsConfig?, hasCloudApplicationTable: Bool
    ) -> [OrganisationConfig] {
        guard let entry = root.table["organisation"] else { return [] }
        let expected = "one [[organisation]] table (two brackets) per organisation"
        guard case .array(let elements) = entry.value else {
            root.problem("organisation", "expected \(expected), found \(entry.value.kindDescription)")
            return []
        }
        var organisations: [OrganisationConfig] = []
        var firstLineOfName: [String: Int] = [:]
        for (offset, element) in elements.enumerated() {
            let index = offset + 1
            guard case .table(let table) = element else {
                root.problem("organisation", "expected \(expected); element \(index) is \(element.kindDescription)")
                continue
            }
            let configTable = ConfigTable(
                table: table, keyPrefix: "organisation[\(index)].", tableName: "[[organisation]]", problems: problems)
            let reader = OrganisationReader(
                table: configTable, files: files, cloudApplication: cloudApplication,
                hasCloudApplicationTable: hasCloudApplicationTable)
            var name = reader.readName()
            if let found = name {
                if let firstLine = firstLineOfName[found.value] {
                    configTable.problem("name",
                        "organisation name \"\(found.value)\" is already used at line \(firstLine): each organisation needs its own name")
                    name = nil
                } else {
                    firstLineOfName[found.value] = found.line
                }
            }
            // Named by its name from here on (`organisation "acme".token_url`), when it has a good one of its own.
            let named = name.map {
                OrganisationReader(
                    table: ConfigTable(table: table, keyPrefix: "organisation \"\($0.value)\".", tableName: "[[organisation]]", problems: problems),
                    files: files, cloudApplication: cloudApplication, hasCloudApplicationTable: hasCloudApplicationTable)
            } ?? reader
            if let organisation = named.read(name: name?.value) { organisations.append(organisation) }
        }
        return organisations
    }
}

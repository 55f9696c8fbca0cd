import Foundation

/// Reads one `[[organisation]]` table and resolves it by the rules of iManage's setup guide:
/// region `default` means cloudimanage.com for everything; region `custom` needs the
/// Authorization and Token URLs (an empty Endpoint URL is the Authorization URL's host);
/// `use_default_configuration` takes the client from `[cloud_application]`, otherwise the
/// organisation names its own.
struct OrganisationReader {
    static let knownKeys = [
        "name", "enabled", "use_default_configuration", "region", "authorization_url", "token_url",
        "endpoint_url", "client_id", "client_secret_file", "pkce", "customer_id", "ca_file",
    ]
    static let urlKeys = ["authorization_url", "token_url", "endpoint_url"]

    let table: ConfigTable
    let files: ConfigFiles
    /// `[cloud_application]` as read (`nil` when absent or wrong).
    let cloudApplication: ClientCredentialsConfig?
    /// Whether a `[cloud_application]` table is written at all, valid or not.
    let hasCloudApplicationTable: Bool

    /// The organisation's name as written (for the uniqueness check), even when the rest is wrong.
    func readName() -> Located<String>? {
        let expected = "a short name in quotes, like \"acme\" (A-Z a-z 0-9 . _ -, at most 64 characters)"
        guard table.contains("name") else {
            table.problem("name", "required: \(expected); it names the organisation in URLs and commands")
            return nil
        }
        guard let name = table.string("name", expected: expected) else { return nil }
        guard Self.isValidName(name.value) else {
            table.problem("name", "expected \(expected)")
            return nil
        }
        return name
    }

    /// The resolved organisation, or `nil` after noting its problems.
    func read(name: String?) -> OrganisationConfig? {
        table.reportUnknownKeys(known: Self.knownKeys, secretKey: "client_secret_file")
        let enabled = table.boolean("enabled")?.value ?? true
        let useDefault = table.boolean("use_default_configuration")?.value ?? true
        let pkce = table.boolean("pkce")?.value ?? true
        let region = readRegion()
        let urls = region.flatMap(readURLs)
        let client = readClient(useDefaultConfiguration: useDefault)
        let customerID = readCustomerID()
        let caFile = readCAFile()
        guard let name, let region, let urls, let client, let customerID, let caFile else { return nil }
        return OrganisationConfig(
            name: name, enabled: enabled, useDefaultConfiguration: useDefault, region: region,
            authorizationBase: urls.authorization, tokenBase: urls.token, endpointBase: urls.endpoint,
            clientID: client.clientID, clientSecret: client.clientSecret, clientSecretFile: client.clientSecretFile,
            pkce: pkce, customerID: customerID, caFile: caFile, line: table.line)
    }

    /// `customer_id`: the iManage customer id (`data.user.customer_id` of `/api`), as a string or
    /// an integer. The outer optional is `nil` after a problem; the inner one when it is not set.
    private func readCustomerID() -> Optional<String?> {
        let expected = "the iManage customer id that /api reports for this firm, like \"1\" or 1"
        guard let entry = table.table["customer_id"] else { return .some(nil) }
        let text: String
        switch entry.value {
        case .string(let value): text = value
        case .integer(let value) where value >= 0: text = String(value)
        default:
            table.problem("customer_id", "expected \(expected), found \(entry.value.kindDescription)")
            return nil
        }
        guard (1...64).contains(text.utf8.count),
              text.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_".unicodeScalars.contains($0)) })
        else {
            table.problem("customer_id", "expected \(expected) (letters, digits, - and _, at most 64 characters)")
            return nil
        }
        return .some(text)
    }

    /// `ca_file`: extra trust roots for this organisation's hosts only.
    private func readCAFile() -> Optional<String?> {
        guard table.contains("ca_file") else { return .some(nil) }
        guard let value = table.string("ca_file", expected: "the path of a PEM file of CA certificates, in quotes") else { return nil }
        do {
            return .some(try files.checkCertificateFile(value.value))
        } catch {
            table.problem("ca_file", error.message)
            return nil
        }
    }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
        }
    }

    private func readRegion() -> OrganisationConfig.Region? {
        let expected = "\"default\" (cloudimanage.com) or \"custom\" (your own URLs)"
        guard table.contains("region") else { return .default }
        guard let text = table.string("region", expected: expected) else { return nil }
        guard let region = OrganisationConfig.Region(rawValue: text.value) else {
            table.problem("region", "expected \(expected)")
            return nil
        }
        return region
    }

    private func readURLs(region: OrganisationConfig.Region) -> (authorization: URL, token: URL, endpoint: URL)? {
        switch region {
        case .default:
            var isValid = true
            for key in Self.urlKeys {
                guard let value = table.string(key, expected: "a URL in quotes") else {
                    isValid = isValid && !table.contains(key)
                    continue
                }
                guard !value.value.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                table.problem(key,
                    "is set, but region is \"default\" (every URL is \(OrganisationConfig.defaultCloudURL.absoluteString)): set region = \"custom\" to use your own URLs, or remove this key")
                isValid = false
            }
            let cloud = OrganisationConfig.defaultCloudURL
            return isValid ? (cloud, cloud, cloud) : nil
        case .custom:
            let authorization = requiredURL("authorization_url")
            let token = requiredURL("token_url")
            let endpoint: URL?
            switch readURL("endpoint_url") {
            case .valid(let url): endpoint = url
            case .absent, .empty: endpoint = authorization.map(BaseURLRule.origin(of:))
            case .invalid: endpoint = nil
            }
            guard let authorization, let token, let endpoint else { return nil }
            return (authorization, token, endpoint)
        }
    }

    /// What a URL key holds.
    private enum URLValue {
        case absent, empty, invalid
        case valid(URL)
    }

    private static let urlExpected = "the base URL in quotes, like \"https://acme.cloudimanage.com\""

    private func readURL(_ key: String) -> URLValue {
        guard table.contains(key) else { return .absent }
        guard let text = table.string(key, expected: Self.urlExpected) else { return .invalid }
        guard !text.value.trimmingCharacters(in: .whitespaces).isEmpty else { return .empty }
        do {
            let url = try BaseURLRule.check(text.value)
            try IManagePathRule.check(url)
            return .valid(url)
        } catch {
            table.problem(key, error.message)
            return .invalid
        }
    }

    /// A URL region `custom` cannot do without.
    private func requiredURL(_ key: String) -> URL? {
        switch readURL(key) {
        case .valid(let url):
            return url
        case .absent, .empty:
            table.problem(key, "required with region = \"custom\": expected \(Self.urlExpected)")
            return nil
        case .invalid:
            return nil
        }
    }

    private func readClient(useDefaultConfiguration: Bool) -> ClientCredentialsConfig? {
        if useDefaultConfiguration {
            var isValid = true
            for key in ["client_id", "client_secret_file"] where table.contains(key) {
                table.problem(key,
                    "is not used with use_default_configuration = true (the client comes from [cloud_application]): remove it, or set use_default_configuration = false to use this organisation's own client")
                isValid = false
            }
            if !hasCloudApplicationTable {
                table.problem("use_default_configuration",
                    "the organisation uses the default configuration, but there is no [cloud_application] table: add [cloud_application] with client_id and client_secret_file, or set use_default_configuration = false and give this organisation its own client_id and client_secret_file")
                return nil
            }
            return isValid ? cloudApplication : nil
        }
        return ClientCredentialsReader(table: table, files: files)
            .read(requiredBecause: "use_default_configuration = false, so the organisation needs its own client")
    }
}

/// Reads a client id and its secret file, from `[cloud_application]` or an on-premise organisation.
struct ClientCredentialsReader {
    static let clientIDExpected = "the client id in quotes, as registered in iManage Control Center"

    let table: ConfigTable
    let files: ConfigFiles

    /// Reads `[cloud_application]` (both keys required).
    func readCloudApplication() -> ClientCredentialsConfig? {
        table.reportUnknownKeys(known: ["client_id", "client_secret_file"], secretKey: "client_secret_file")
        return read(requiredBecause: "[cloud_application] needs it")
    }

    /// `client_id` and `client_secret_file` of `table`; a missing one is a problem saying `requiredBecause`.
    func read(requiredBecause reason: String) -> ClientCredentialsConfig? {
        let clientID = readClientID(requiredBecause: reason)
        let secret = readSecret(requiredBecause: reason)
        guard let clientID, let secret else { return nil }
        return ClientCredentialsConfig(clientID: clientID, clientSecret: secret.secret, clientSecretFile: secret.path)
    }

    private func readClientID(requiredBecause reason: String) -> String? {
        guard table.contains("client_id") else {
            table.problem("client_id", "required: \(reason); expected \(Self.clientIDExpected)")
            return nil
        }
        guard let clientID = table.string("client_id", expected: Self.clientIDExpected) else { return nil }
        let text = clientID.value
        guard !text.isEmpty, !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) else {
            table.problem("client_id", "expected \(Self.clientIDExpected), without spaces; found an empty or spaced value")
            return nil
        }
        return text
    }

    private func readSecret(requiredBecause reason: String) -> (path: String, secret: Secret)? {
        let expected = "the name of a file that holds the client secret (chmod 600), like \"client-secret\""
        guard table.contains("client_secret_file") else {
            table.problem("client_secret_file", "required: \(reason); expected \(expected)")
            return nil
        }
        guard let name = table.string("client_secret_file", expected: expected) else { return nil }
        files.ledger.record(key: table.keyPath("client_secret_file"), name: name.value, files: files)
        do {
            return try files.readSecretText(named: name.value)
        } catch {
            table.problem("client_secret_file", error.message)
            return nil
        }
    }
}

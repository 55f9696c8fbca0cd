import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The CLI's side of the token API: HTTP over the daemon's Unix socket (`http+unix://`).
public struct DaemonClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    public struct Answer: Sendable {
        public var status: Int
        public var body: Data
    }

    /// Sends one request and returns the answer, whatever its status; throws when the daemon
    /// cannot be reached, saying why (not running, or not allowed to use the socket).
    public func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, timeout: TimeAmount = .seconds(10)
    ) async throws(DaemonClientError) -> Answer {
        guard FileManager.default.fileExists(atPath: socketPath) else { throw .notRunning(socketPath: socketPath) }
        guard access(socketPath, W_OK) == 0 else { throw .notAllowed(socketPath: socketPath) }
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: path) else {
            throw .failed(socketPath: socketPath, reason: "cannot make a URL of the socket path")
        }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: timeout)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(request, timeout: timeout + .seconds(2))
            let collected = try await response.body.collect(upTo: 16 * 1024 * 1024)
            try? await client.shutdown()
            return Answer(status: Int(response.status.code), body: Data(collected.readableBytesView))
        } catch {
            try? await client.shutdown()
            let text = String(describing: error)
            if text.contains("connectionRefused") || text.contains("ECONNREFUSED") || text.contains("Connection refused")
                || text.contains("No such file") {
                throw .notRunning(socketPath: socketPath)
            }
            throw .failed(socketPath: socketPath, reason: text)
        }
    }

    /// `path` with each segment percent-encoded, for names with spaces or `@`.
    public static func segment(_ name: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }
}

/// Why the daemon could not be asked, and what to do.
public enum DaemonClientError: Error, CustomStringConvertible {
    case notRunning(socketPath: String)
    case notAllowed(socketPath: String)
    case failed(socketPath: String, reason: String)

    public var description: String {
        switch self {
        case let .notRunning(path):
            "the daemon is not running (nothing listens on \(path)): start it with systemctl start imanage-tokend, or check api_socket"
        case let .notAllowed(path):
            "not allowed to use the token API socket \(path): run as a member of group imanage-tokend (or as root)"
        case let .failed(path, reason):
            "the daemon did not answer on \(path): \(reason)"
        }
    }
}

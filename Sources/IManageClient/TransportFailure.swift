import AsyncHTTPClient
import Foundation
import IManageWire
import NIOCore
import NIOSSL
import TokendPolicy

/// The whole request (connect, send, read the complete answer) took longer than allowed.
struct RequestDeadlineExceeded: Error {}

/// The answer was longer than the configured cap; reading stopped there.
struct AnswerTooLarge: Error {}

/// Turns an error of the HTTP stack (no answer at all) into a passing `RefreshFailure` whose
/// detail names the host and says what happened in an administrator's words.
///
/// Nothing of the request goes into the detail: only the host, the port and the kind of error.
enum TransportFailure {
    /// `plainHTTP`: the URL was http, so a server that hangs up at once may be speaking TLS; the detail says so.
    static func failure(
        for error: any Error, host: String, port: Int?, settings: IManageClientSettings, plainHTTP: Bool = false
    ) -> RefreshFailure {
        var detail = detail(for: error, host: host, port: port, settings: settings)
        if plainHTTP, (error as? HTTPClientError) == .remoteConnectionClosed {
            detail += " (the URL is plain http: if that port speaks TLS, the URL must start with https)"
        }
        return RefreshFailure(.transient, detail: detail)
    }

    static func detail(for error: any Error, host: String, port: Int?, settings: IManageClientSettings) -> String {
        let seconds = { (interval: TimeInterval) in String(format: "%g s", interval) }
        let requestTimedOut = "no complete answer from \(host) within \(seconds(settings.requestTimeout)); "
            + "iManage or the network may be slow or down"
        let connectTimedOut = "could not connect to \(host) within \(seconds(settings.connectTimeout)); "
            + "check the URL, DNS, firewall and proxy settings"

        switch error {
        case is RequestDeadlineExceeded:
            return requestTimedOut
        case is CancellationError:
            return "the request to \(host) was cancelled (the daemon may be stopping)"
        case is AnswerTooLarge, is NIOTooManyBytesError:
            return "the answer of \(host) is larger than \(settings.maximumBodySize) bytes; it was not read. "
                + "Check that the URL points at iManage"
        case let error as HTTPClientError:
            return describe(error, host: host, requestTimedOut: requestTimedOut, connectTimedOut: connectTimedOut)
        case let error as NIOSSLError:
            return "TLS failure with \(host): " + tlsReason(error)
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return "TLS failure with \(host): the server's certificate is not valid for \(host)"
        case let error as NIOSSLExtraError:
            return "TLS failure with \(host): " + ResponseRedactor.redact(String(describing: error))
        case let error as ChannelError:
            if case .connectTimeout = error { return connectTimedOut }
            return "the connection to \(host) failed: \(error)"
        default:
            break
        }
        if (find(in: error) as SocketAddressError.UnknownHost?) != nil {
            return "could not resolve \(host) (DNS lookup failed); check the host name in the URL and the DNS settings"
        }
        if let ioError: IOError = find(in: error) {
            let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            return "could not connect to \(shownHost)\(port.map { ":\($0)" } ?? ""): " + socketReason(ioError.errnoCode)
        }
        return "the request to \(host) failed: " + ResponseRedactor.redact(String(describing: error))
    }

    private static func describe(
        _ error: HTTPClientError, host: String, requestTimedOut: String, connectTimedOut: String
    ) -> String {
        switch error {
        case .deadlineExceeded, .readTimeout, .writeTimeout:
            return requestTimedOut
        case .connectTimeout, .getConnectionFromPoolTimeout:
            return connectTimedOut
        case .tlsHandshakeTimeout:
            return "TLS failure with \(host): the TLS handshake timed out"
        case .remoteConnectionClosed:
            return "\(host) closed the connection before answering completely"
        case .cancelled:
            return "the request to \(host) was cancelled (the daemon may be stopping)"
        case .alreadyShutdown:
            return "the request to \(host) was not sent: the HTTP client is already shut down"
        case .invalidURL, .emptyHost, .emptyScheme:
            return "the URL for \(host) is not a valid http(s) URL; check the configuration"
        case .uncleanShutdown:
            return "TLS failure with \(host): the connection was closed without a TLS close notification"
        default:
            return "the request to \(host) failed: \(error.shortDescription)"
        }
    }

    /// The reason BoringSSL gave, in words (`CERTIFICATE_VERIFY_FAILED` → "certificate verify failed"),
    /// with what to do for the common ones.
    static func tlsReason(_ error: NIOSSLError) -> String {
        let text = String(describing: error)
        let reasons = boringSSLReasons(in: text)
        if reasons.contains("CERTIFICATE_VERIFY_FAILED") {
            return "certificate verify failed: the server's certificate is not signed by a trusted CA, "
                + "has expired or does not match; if the server uses a private CA, add it with the trust roots file"
        }
        if reasons.contains("WRONG_VERSION_NUMBER") || reasons.contains("HTTP_REQUEST") {
            return "the server did not answer with TLS (is the URL http rather than https, or the port wrong?)"
        }
        if let first = reasons.first {
            return first.lowercased().replacingOccurrences(of: "_", with: " ")
        }
        switch error {
        case .uncleanShutdown: return "the connection was closed without a TLS close notification"
        case .handshakeFailed: return "the TLS handshake failed"
        default: return ResponseRedactor.redact(text)
        }
    }

    /// The reason codes of OpenSSL-style error strings: `error:1000007d:SSL routines:OPENSSL_internal:REASON`.
    static func boringSSLReasons(in text: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: #"error:[0-9A-Fa-f]+:[^:]*:[^:]*:([A-Z0-9_]+)"#) else {
            return []
        }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    private static func socketReason(_ code: CInt) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused (nothing listens there; check the URL's host and port)"
        case ECONNRESET: return "connection reset by the server or a firewall"
        case ETIMEDOUT: return "the connection timed out"
        case ENETUNREACH: return "the network is unreachable"
        case EHOSTUNREACH: return "no route to the host"
        default: return String(cString: strerror(code)).lowercased()
        }
    }

    /// Finds an error of type `Wanted` in `error` or, a few levels deep, in what it wraps
    /// (NIO's connection errors keep one error per address tried).
    static func find<Wanted>(in error: Any, depth: Int = 0) -> Wanted? {
        if let wanted = error as? Wanted { return wanted }
        guard depth < 4 else { return nil }
        for child in Mirror(reflecting: error).children {
            if let found: Wanted = find(in: child.value, depth: depth + 1) { return found }
        }
        return nil
    }
}

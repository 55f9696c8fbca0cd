import AsyncHTTPClient
import Foundation
import IManageWire
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOSSL
import TokendPolicy

/// Everything the daemon says to iManage over HTTP: token refreshes, code exchanges, discovery,
/// libraries and group members. Every call returns a value or a `RefreshFailure` that names the
/// host and never contains a token, code or secret; none of them throws.
///
/// One instance holds one connection pool on a shared event loop group; call `shutdown()` once
/// before dropping it.
public final class IManageHTTPClient: Sendable {
    private let httpClient: HTTPClient
    private let settings: IManageClientSettings
    private let logger: Logger
    private let transportLogger: Logger
    /// The TLS settings of hosts with trust roots of their own (``IManageClientSettings/trustRootsByHost``).
    private let tlsByHost: [String: TLSConfiguration]

    /// - Throws: `TrustRootsError` when `settings.trustRootsFile` cannot be read.
    public init(
        settings: IManageClientSettings = IManageClientSettings(),
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup
    ) throws {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: try ClientTLS.configuration(trustRootsFile: settings.trustRootsFile),
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(max(settings.connectTimeout, 0.001) * 1000))),
            decompression: .disabled)
        // A refused or failing connection fails the request at once; the engine's backoff retries.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, settings.connectionsPerHost)
        // AsyncHTTPClient's own connection chatter only at trace level: at debug it would drown ours.
        var transportLogger = logger
        if logger.logLevel > .trace { transportLogger.logLevel = max(logger.logLevel, .info) }
        self.httpClient = HTTPClient(
            eventLoopGroup: eventLoopGroup, configuration: configuration, backgroundActivityLogger: transportLogger)
        self.settings = settings
        self.logger = logger
        self.transportLogger = transportLogger
        var tlsByHost: [String: TLSConfiguration] = [:]
        for (host, file) in settings.trustRootsByHost {
            tlsByHost[host.lowercased()] = try ClientTLS.configuration(trustRootsFile: file)
        }
        self.tlsByHost = tlsByHost
    }

    /// A request to `url`, with the TLS settings of its host.
    private func makeRequest(_ url: URL, method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        if let host = url.host?.lowercased(), let tls = tlsByHost[host] { request.tlsConfiguration = tls }
        request.headers.add(name: "User-Agent", value: settings.userAgent)
        return request
    }

    /// Closes the connections. Requests made afterwards fail (transiently).
    public func shutdown() async {
        do {
            try await httpClient.shutdown()
        } catch {
            logger.debug("HTTP client shut down already", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Token endpoint

    /// Trades a refresh token for a new access token (`grant_type=refresh_token`).
    public func refresh(
        tokenURL: URL, credentials: ClientCredentials, refreshToken: String, organisation: String = ""
    ) async -> Result<TokenResponse, RefreshFailure> {
        await requestToken(tokenURL, grant: .refreshToken, organisation: organisation, fields: [
            ("grant_type", TokenGrant.refreshToken.rawValue),
            ("refresh_token", refreshToken),
            ("client_id", credentials.clientID),
            ("client_secret", credentials.clientSecret),
        ])
    }

    /// Trades an authorisation code from the callback for the first tokens
    /// (`grant_type=authorization_code`, with the PKCE verifier when one was used).
    public func exchangeCode(
        tokenURL: URL, credentials: ClientCredentials, code: String, redirectURI: String, codeVerifier: String?,
        organisation: String = ""
    ) async -> Result<TokenResponse, RefreshFailure> {
        var fields: [(name: String, value: String)] = [
            ("grant_type", TokenGrant.authorizationCode.rawValue),
            ("code", code),
            ("redirect_uri", redirectURI),
            ("client_id", credentials.clientID),
            ("client_secret", credentials.clientSecret),
        ]
        if let codeVerifier { fields.append(("code_verifier", codeVerifier)) }
        return await requestToken(tokenURL, grant: .authorizationCode, organisation: organisation, fields: fields)
    }

    private func requestToken(
        _ url: URL, grant: TokenGrant, organisation: String, fields: [(name: String, value: String)]
    ) async -> Result<TokenResponse, RefreshFailure> {
        let target: RequestTarget
        switch RequestTarget.check(url) {
        case .success(let checked): target = checked
        case .failure(let failure): return .failure(failure)
        }
        var request = makeRequest(url, method: .POST)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let body = Array(FormEncoding.encode(fields.map { ($0.name, $0.value) }).utf8)
        request.body = .bytes(ByteBuffer(bytes: body))

        let result = await send(request, to: target, what: "token", organisation: organisation).flatMap { answer in
            AnswerClassification.tokenResult(
                TokenAnswer.read(
                    status: answer.status, body: answer.body, retryAfterHeader: answer.retryAfter,
                    now: Date(), defaultLifetime: settings.defaultAccessTokenLifetime),
                host: target.host, grant: grant)
        }
        logOutcome(result, what: "token (\(grant.rawValue))", target: target)
        return result
    }

    // MARK: - Work API

    /// Who the access token belongs to and their customer id (`GET {endpoint}/api`).
    public func discover(discoveryURL: URL, accessToken: String, organisation: String = "") async -> Result<IManageIdentity, RefreshFailure> {
        await getAPI(discoveryURL, accessToken: accessToken, what: "discovery", organisation: organisation, parse: APIAnswerParser.identity)
    }

    /// The customer's libraries (`GET …/customers/{customerId}/libraries`).
    public func libraries(url: URL, accessToken: String, organisation: String = "") async -> Result<[IManageLibrary], RefreshFailure> {
        await getAPI(url, accessToken: accessToken, what: "libraries", organisation: organisation, parse: APIAnswerParser.libraries)
    }

    /// The members of a library group (`GET …/libraries/{library}/groups/{group}/members`).
    public func groupMembers(url: URL, accessToken: String, organisation: String = "") async -> Result<[IManageGroupMember], RefreshFailure> {
        await getAPI(url, accessToken: accessToken, what: "group members", organisation: organisation, parse: APIAnswerParser.groupMembers)
    }

    private func getAPI<Value: Sendable>(
        _ url: URL, accessToken: String, what: String, organisation: String,
        parse: @escaping @Sendable ([UInt8]) -> Result<Value, APIAnswerProblem>
    ) async -> Result<Value, RefreshFailure> {
        let target: RequestTarget
        switch RequestTarget.check(url) {
        case .success(let checked): target = checked
        case .failure(let failure): return .failure(failure)
        }
        var request = makeRequest(url, method: .GET)
        request.headers.add(name: "X-Auth-Token", value: accessToken)
        request.headers.add(name: "Accept", value: "application/json")

        let result = await send(request, to: target, what: what, organisation: organisation).flatMap { answer -> Result<Value, RefreshFailure> in
            guard (200..<300).contains(answer.status) else {
                return .failure(AnswerClassification.apiFailure(
                    status: answer.status, body: answer.body, retryAfterHeader: answer.retryAfter,
                    host: target.host, what: what))
            }
            return parse(answer.body).mapError { problem in
                RefreshFailure(
                    .transient, httpStatus: answer.status, detail: "\(target.host): \(problem.text)",
                    responseExcerpt: ResponseRedactor.excerpt(answer.body))
            }
        }
        logOutcome(result, what: what, target: target)
        return result
    }

    // MARK: - Sending

    /// What came back: the status, `Retry-After`, and the whole body (at most the cap).
    private struct ReceivedAnswer: Sendable {
        var status: Int
        var retryAfter: String?
        var body: [UInt8]
    }

    private func send(
        _ request: HTTPClientRequest, to target: RequestTarget, what: String, organisation: String
    ) async -> Result<ReceivedAnswer, RefreshFailure> {
        let timeout = settings.requestTimeout
        let deadline = NIODeadline.now() + .milliseconds(Int64(max(timeout, 0) * 1000))
        let maximumBodySize = settings.maximumBodySize
        let (httpClient, logger) = (self.httpClient, self.transportLogger)
        do {
            let answer = try await withRequestDeadline(seconds: timeout) {
                let response = try await httpClient.execute(request, deadline: deadline, logger: logger)
                let body = try await response.body.collect(upTo: maximumBodySize)
                return ReceivedAnswer(
                    status: Int(response.status.code),
                    retryAfter: response.headers.first(name: "Retry-After"),
                    body: Array(body.readableBytesView))
            }
            Self.countRequest(organisation: organisation, what: what, code: String(answer.status))
            return .success(answer)
        } catch {
            Self.countRequest(organisation: organisation, what: what, code: "error")
            return .failure(TransportFailure.failure(
                for: error, host: target.host, port: target.port, settings: settings, plainHTTP: target.url.scheme?.lowercased() == "http"))
        }
    }

    /// `imanage_tokend_imanage_requests_total{organisation,endpoint,code}` (swift-metrics: nothing
    /// unless the daemon bootstrapped a metrics backend). `code` is the HTTP status, or `error`
    /// when no answer came (connection, TLS, timeout).
    private static func countRequest(organisation: String, what: String, code: String) {
        let endpoint = switch what {
        case "group members": "members"
        default: what
        }
        Counter(label: "imanage_tokend_imanage_requests_total",
                dimensions: [("organisation", organisation), ("endpoint", endpoint), ("code", code)]).increment()
    }

    private func logOutcome<Value>(_ result: Result<Value, RefreshFailure>, what: String, target: RequestTarget) {
        guard logger.logLevel <= .debug else { return }
        switch result {
        case .success:
            logger.debug("iManage \(what) request succeeded", metadata: [
                "TOKEND_HTTP_HOST": "\(target.host)", "TOKEND_HTTP_PATH": "\(target.url.path)",
            ])
        case .failure(let failure):
            var metadata: Logger.Metadata = [
                "TOKEND_HTTP_HOST": "\(target.host)", "TOKEND_HTTP_PATH": "\(target.url.path)",
                "TOKEND_ERROR_CLASS": "\(failure.failureClass.rawValue)",
            ]
            if let status = failure.httpStatus { metadata["TOKEND_HTTP_STATUS"] = "\(status)" }
            logger.debug("iManage \(what) request failed: \(failure.description)", metadata: metadata)
        }
    }
}

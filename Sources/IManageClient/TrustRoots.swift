import AsyncHTTPClient
import NIOSSL

/// The trust roots file could not be used; nothing is sent until it is fixed.
public struct TrustRootsError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String {
        "cannot use the trust roots file \(path): \(reason); it must be a readable PEM file of CA certificates"
    }
}

/// The TLS settings of every request: verification always on, the system's roots plus the
/// optional extra PEM bundle, TLS 1.2 at least.
enum ClientTLS {
    static func configuration(trustRootsFile: String?) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        tls.minimumTLSVersion = .tlsv12
        tls.trustRoots = .default
        if let path = trustRootsFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw TrustRootsError(path: path, reason: "no PEM certificate could be read (\(error))")
            }
            guard !certificates.isEmpty else {
                throw TrustRootsError(path: path, reason: "it holds no certificate")
            }
            tls.additionalTrustRoots = [.certificates(certificates)]
        }
        return tls
    }
}

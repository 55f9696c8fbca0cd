import HTTPTypes
import HummingbirdCore
import NIOCore

/// Answers `413` to a request whose body is longer than the limit, before any route reads it:
/// at once by its `Content-Length`, or, for a chunked body, after reading at most the limit
/// (the body read is then handed on). Wraps the server's responder, so it holds for every route
/// of the listener, whatever its router does.
public struct RequestSizeLimit: Sendable {
    public let maximumBodySize: Int
    /// The `413` body: its content type and text (each server words it its own way).
    public let answer: @Sendable (_ maximumBodySize: Int) -> (contentType: String, body: String)

    public init(
        maximumBodySize: Int,
        answer: @escaping @Sendable (_ maximumBodySize: Int) -> (contentType: String, body: String) = RequestSizeLimit.plainText
    ) {
        self.maximumBodySize = maximumBodySize
        self.answer = answer
    }

    public static let plainText: @Sendable (Int) -> (contentType: String, body: String) = { maximum in
        ("text/plain; charset=utf-8", "The request is too large: at most \(maximum) bytes of body are accepted.\n")
    }

    /// `responder`, refusing bodies over the limit.
    func wrap(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        { request, writer, channel in
            var request = request
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumBodySize {
                try await refuse(writer)
                return
            }
            if request.headers[.transferEncoding] != nil {
                do {
                    _ = try await request.collectBody(upTo: maximumBodySize)
                } catch is NIOTooManyBytesError {
                    try await refuse(writer)
                    return
                }
            }
            try await responder(request, writer, channel)
        }
    }

    /// The `413`; the connection closes after it, since the body was not read to its end.
    private func refuse(_ writer: consuming ResponseWriter) async throws {
        let (contentType, text) = answer(maximumBodySize)
        let body = ByteBuffer(string: text)
        var fields = HTTPFields()
        fields[.contentType] = contentType
        fields[.contentLength] = String(body.readableBytes)
        fields[.connection] = "close"
        try await writer.write(response: HTTPResponse(status: .contentTooLarge, headerFields: fields), body: ResponseBody(byteBuffer: body))
    }
}

import CLibFuzzer
import Foundation
import TokendWebInput

// libFuzzer target: the query string of iManage's redirect to /oauth/callback, as the callback
// route reads it (`CallbackQuery.read`, over `WebForm.parse`). An input is the query string
// (without the `?`); bytes that are not UTF-8 become U+FFFD, as they would in a request's URI.
// Besides "no crash", the decision and the form coding are checked; a broken property stops
// with `fatalError`, which libFuzzer records as a crash with its input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCallbackQuery(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let query = String(decoding: bytes, as: UTF8.self)

    let fields: [String: String]
    do {
        fields = try WebForm.parse(query)
    } catch {
        guard (try? CallbackQuery.read(query)) == nil else { fatalError("CallbackQuery accepted a query WebForm refused") }
        return 0
    }
    checkDecision(fields, query: query)
    checkIssuer(query)
    checkRoundTrip(fields)
    checkEscaping(of: query)
    return 0
}

/// The decision follows the fields: no state, else the error, else the code, else neither.
private func checkDecision(_ fields: [String: String], query: String) {
    let decision: CallbackQuery
    do {
        decision = try CallbackQuery.read(query)
    } catch {
        fatalError("CallbackQuery refused a query WebForm accepted: \(error.message)")
    }
    let state = fields["state"] ?? ""
    switch decision {
    case .noState:
        guard state.isEmpty else { fatalError("a state was there, but the decision is noState") }
    case .refused(let found, let error):
        guard found == state, !state.isEmpty, let full = fields["error"] else { fatalError("refused without state or error") }
        guard error.count <= CallbackQuery.maximumErrorLength, full.hasPrefix(error),
              error.count == min(full.count, CallbackQuery.maximumErrorLength) else {
            fatalError("the error code passed on is not the start of the one given")
        }
    case .code(let found, let code):
        guard found == state, !state.isEmpty, fields["error"] == nil, !code.isEmpty, code == fields["code"] else {
            fatalError("a code decision that does not match the fields")
        }
    case .neither(let found):
        guard found == state, !state.isEmpty, fields["error"] == nil, (fields["code"] ?? "").isEmpty else {
            fatalError("a neither decision with a code or an error")
        }
    }
    let fixedDescriptions: Set = [
        "CallbackQuery.noState", "CallbackQuery.refused(<redacted>)", "CallbackQuery.code(<redacted>)",
        "CallbackQuery.neither(<redacted>)",
    ]
    guard fixedDescriptions.contains("\(decision)"), fixedDescriptions.contains(String(reflecting: decision)) else {
        fatalError("the decision's description depends on the code or the state")
    }
}

/// Encoding the decoded fields and reading them again gives the same fields.
private func checkRoundTrip(_ fields: [String: String]) {
    let encoded = WebForm.encode(fields.sorted { $0.key < $1.key })
    let again: [String: String]
    do {
        again = try WebForm.parse(encoded)
    } catch {
        fatalError("the encoding of accepted fields is refused: \(error.message)")
    }
    guard again == fields else { fatalError("decode(encode(fields)) differs from fields") }
}

/// Any text, escaped, reads back as itself, as a name (when short enough) and as a value.
private func checkEscaping(of text: String) {
    let escaped = WebForm.escape(text)
    guard escaped.utf8.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "&") && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "+") }) else {
        fatalError("an escaped text holds a character that is not safe in a query string")
    }
    guard text.utf8.count <= WebForm.maximumValueLength else { return }
    let name = text.utf8.count <= WebForm.maximumNameLength && !text.isEmpty ? text : "n"
    let read = try? WebForm.parse("\(WebForm.escape(name))=\(escaped)")
    guard read == [name: text] else { fatalError("decode(escape(text)) differs from text") }
}

// MARK: Start (last: top-level globals above are set up in order before this runs)
// libFuzzer's own `main` is not linked (see Package.swift): start its driver here.
var argumentCount = CommandLine.argc
var argumentValues = Optional(CommandLine.unsafeArgv)
exit(LLVMFuzzerRunDriver(&argumentCount, &argumentValues, fuzzCallbackQuery))

/// `iss` (RFC 9207): reading it changes nothing of the decision, and its compared form is stable
/// (normalising a normalised issuer gives it back), so two spellings of one server compare equal.
private func checkIssuer(_ query: String) {
    guard let read = try? CallbackQuery.readWithIssuer(query) else { return }
    guard read.decision == (try? CallbackQuery.read(query)) else { fatalError("reading iss changed the decision") }
    for text in [read.issuer, query].compactMap({ $0 }) {
        if let once = IssuerIdentifier.normalised(text), IssuerIdentifier.normalised(once) != once {
            fatalError("an issuer's compared form is not stable")
        }
    }
}

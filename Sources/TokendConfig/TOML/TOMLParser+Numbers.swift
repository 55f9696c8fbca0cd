/// Integers (decimal, 0x, 0o, 0b, with `_` between digits), floats (with fraction and/or exponent,
/// inf, nan), and the rejection of dates and times, which this reader does not support.
extension TOMLParser {
    /// Reads a number (or rejects a date); the cursor is at its first character.
    mutating func parseNumber() throws(TOMLSyntaxError) -> TOMLValue {
        let start = cursor.position
        var token: [UInt8] = []
        while let byte = cursor.peek(), Self.isNumberCharacter(byte) {
            token.append(byte)
            cursor.advance()
        }
        if Self.looksLikeDateOrTime(token) {
            throw TOMLSyntaxError("dates and times are not supported here: write the value as a string in quotes", at: start)
        }
        let text = String(decoding: token, as: UTF8.self)
        guard let value = Self.number(from: token) else {
            let digits = token.drop { $0 == Ascii.plus || $0 == Ascii.minus }
            if digits.allSatisfy({ Ascii.isDigit($0) || $0 == Ascii.underscore }), digits.filter(Ascii.isDigit).count >= 19 {
                throw TOMLSyntaxError("integer `\(text.prefix(40))` is out of range (at most 9223372036854775807)", at: start)
            }
            throw TOMLSyntaxError(
                "`\(text.prefix(40))` is not a valid value: expected a number (like 30, 0.5, 1e3, 0x1F), true, false, or a string in quotes",
                at: start)
        }
        if case .float(let double) = value, double.isInfinite, !token.contains(UInt8(ascii: "i")) {
            throw TOMLSyntaxError("number `\(text.prefix(40))` is too large", at: start)
        }
        return value
    }

    private static func isNumberCharacter(_ byte: UInt8) -> Bool {
        Ascii.isBareKeyCharacter(byte) || byte == Ascii.plus || byte == Ascii.dot || byte == Ascii.colon
    }

    /// `1979-05-27…` or `07:32:00…`.
    private static func looksLikeDateOrTime(_ token: [UInt8]) -> Bool {
        if token.contains(Ascii.colon) { return true }
        return token.count >= 5 && token.prefix(4).allSatisfy(Ascii.isDigit) && token[4] == Ascii.minus
    }

    /// The value of a number token, or `nil` when it is not one.
    static func number(from token: [UInt8]) -> TOMLValue? {
        guard let first = token.first else { return nil }
        let hasSign = first == Ascii.plus || first == Ascii.minus
        let body = hasSign ? Array(token.dropFirst()) : token
        let isNegative = first == Ascii.minus

        if body == Array("inf".utf8) { return .float(isNegative ? -.infinity : .infinity) }
        if body == Array("nan".utf8) { return .float(.nan) }

        if body.count > 2, body[0] == UInt8(ascii: "0") {
            let radix: Int? = switch body[1] {
            case UInt8(ascii: "x"): 16
            case UInt8(ascii: "o"): 8
            case UInt8(ascii: "b"): 2
            default: nil
            }
            if let radix {
                guard !hasSign, let digits = digitsWithoutUnderscores(Array(body.dropFirst(2)), radix: radix) else { return nil }
                return Int64(String(decoding: digits, as: UTF8.self), radix: radix).map(TOMLValue.integer)
            }
        }
        return decimal(body, sign: hasSign ? first : nil)
    }

    /// A decimal integer or float: `int [. digits] [e [+-] digits]`, no leading zeros.
    private static func decimal(_ body: [UInt8], sign: UInt8?) -> TOMLValue? {
        var index = 0
        func digitRun() -> [UInt8]? {
            let start = index
            while index < body.count, Ascii.isDigit(body[index]) || body[index] == Ascii.underscore { index += 1 }
            return digitsWithoutUnderscores(Array(body[start..<index]), radix: 10)
        }
        guard let integerPart = digitRun() else { return nil }
        if integerPart.count > 1 && integerPart[0] == UInt8(ascii: "0") { return nil }

        var cleaned = (sign.map { [$0] } ?? []) + integerPart
        var isFloat = false
        if index < body.count, body[index] == Ascii.dot {
            index += 1
            guard let fraction = digitRun() else { return nil }
            cleaned += [Ascii.dot] + fraction
            isFloat = true
        }
        if index < body.count, body[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            cleaned.append(UInt8(ascii: "e"))
            if index < body.count, body[index] == Ascii.plus || body[index] == Ascii.minus {
                cleaned.append(body[index])
                index += 1
            }
            guard let exponent = digitRun() else { return nil }
            cleaned += exponent
            isFloat = true
        }
        guard index == body.count else { return nil }
        let text = String(decoding: cleaned, as: UTF8.self)
        if isFloat { return Double(text).map(TOMLValue.float) }
        return Int64(text).map(TOMLValue.integer)
    }

    /// The digits of `run` with its underscores removed, when every underscore stands between two
    /// digits and every digit is valid in `radix`; `nil` otherwise (or when there are no digits).
    private static func digitsWithoutUnderscores(_ run: [UInt8], radix: Int) -> [UInt8]? {
        var digits: [UInt8] = []
        var previousWasDigit = false
        for byte in run {
            if byte == Ascii.underscore {
                guard previousWasDigit else { return nil }
                previousWasDigit = false
                continue
            }
            guard let value = hexValue(byte), Int(value) < radix else { return nil }
            digits.append(byte)
            previousWasDigit = true
        }
        return previousWasDigit ? digits : nil
    }
}

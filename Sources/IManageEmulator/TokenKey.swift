#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The 32 random bytes behind an access token, refresh token or authorization code.
///
/// Clients see it as 43 characters of unpadded base64url. Inside, it is four words, so a
/// million of them sit in dictionaries without a heap allocation each, and hashing and
/// comparing cost a few instructions.
struct TokenKey: Hashable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64)

    init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.words = words
    }

    static func == (lhs: TokenKey, rhs: TokenKey) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
            && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// Length of the text form.
    static let textLength = 43

    /// A fresh key from the operating system's random source.
    static func random() -> TokenKey {
        var key = TokenKey(words: (0, 0, 0, 0))
        withUnsafeMutableBytes(of: &key.words) { fillRandom($0) }
        return key
    }

    /// `count` fresh keys, read from the random source in one go.
    static func random(count: Int) -> [TokenKey] {
        var keys = [TokenKey](repeating: TokenKey(words: (0, 0, 0, 0)), count: count)
        keys.withUnsafeMutableBytes { fillRandom($0) }
        return keys
    }

    /// Fills `buffer` from the system's cryptographic random source: large buffers in a few
    /// reads of `/dev/urandom`, small ones through `SystemRandomNumberGenerator`.
    private static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) {
        if buffer.count >= 4096, readURandom(into: buffer) { return }
        var generator = SystemRandomNumberGenerator()
        var offset = 0
        while offset < buffer.count {
            let value = generator.next()
            withUnsafeBytes(of: value) { bytes in
                for byte in bytes where offset < buffer.count {
                    buffer[offset] = byte
                    offset += 1
                }
            }
        }
    }

    private static func readURandom(into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var offset = 0
        while offset < buffer.count {
            let count = read(descriptor, base + offset, buffer.count - offset)
            if count > 0 {
                offset += count
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Values of base64url characters, 0xFF for anything else.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()

    /// The 43-character base64url text of the key.
    var text: String {
        withUnsafeBytes(of: words) { bytes in
            String(unsafeUninitializedCapacity: Self.textLength) { output in
                var out = 0
                var index = 0
                // 30 bytes in ten groups of three, then the last two bytes.
                while index + 3 <= 30 {
                    let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                    output[out] = Self.alphabet[Int(value >> 18 & 63)]
                    output[out + 1] = Self.alphabet[Int(value >> 12 & 63)]
                    output[out + 2] = Self.alphabet[Int(value >> 6 & 63)]
                    output[out + 3] = Self.alphabet[Int(value & 63)]
                    out += 4
                    index += 3
                }
                let value = UInt32(bytes[30]) << 16 | UInt32(bytes[31]) << 8
                output[out] = Self.alphabet[Int(value >> 18 & 63)]
                output[out + 1] = Self.alphabet[Int(value >> 12 & 63)]
                output[out + 2] = Self.alphabet[Int(value >> 6 & 63)]
                return Self.textLength
            }
        }
    }

    /// Reads the text form; nil for anything that is not exactly a key this emulator could have issued.
    init?(text: some StringProtocol) {
        let utf8 = text.utf8
        guard utf8.count == Self.textLength else { return nil }
        var key = TokenKey(words: (0, 0, 0, 0))
        let valid = withUnsafeMutableBytes(of: &key.words) { bytes -> Bool in
            var accumulator: UInt32 = 0
            var bits = 0
            var out = 0
            for character in utf8 {
                let value = Self.decodeTable[Int(character)]
                guard value != 0xFF else { return false }
                accumulator = accumulator << 6 | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    bytes[out] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
                    out += 1
                    accumulator &= (1 << UInt32(bits)) - 1
                }
            }
            // 43 characters carry 258 bits; the two left over must be zero for the text to be canonical.
            return out == 32 && accumulator == 0
        }
        guard valid else { return nil }
        self = key
    }
}

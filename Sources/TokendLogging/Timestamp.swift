#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 3339 UTC timestamps with milliseconds (`2026-11-23T12:34:56.789Z`), made with
/// `clock_gettime` and `gmtime_r`: no formatter objects, locale or locks on the hot path.
enum Timestamp {
    static func now() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return format(seconds: Int(time.tv_sec), milliseconds: Int(time.tv_nsec) / 1_000_000)
    }

    static func format(seconds: Int, milliseconds: Int) -> String {
        var calendar = tm()
        var clock = time_t(seconds)
        gmtime_r(&clock, &calendar)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8((rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(calendar.tm_year) + 1900, 4); bytes.append(UInt8(ascii: "-"))
        digits(Int(calendar.tm_mon) + 1, 2); bytes.append(UInt8(ascii: "-"))
        digits(Int(calendar.tm_mday), 2); bytes.append(UInt8(ascii: "T"))
        digits(Int(calendar.tm_hour), 2); bytes.append(UInt8(ascii: ":"))
        digits(Int(calendar.tm_min), 2); bytes.append(UInt8(ascii: ":"))
        digits(Int(calendar.tm_sec), 2); bytes.append(UInt8(ascii: "."))
        digits(milliseconds, 3); bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

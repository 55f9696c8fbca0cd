#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Writes records to their destination; shared by all handlers and safe from any thread.
///
/// A stderr line is written with one `write(2)` under a lock, so lines of concurrent records
/// never mix. A journal entry is one datagram; if it cannot be sent, the line goes to stderr.
public final class LogWriter: Sendable {
    public let destination: LogDestination
    public let identifier: String
    private let fileDescriptor: CInt
    private let socket: UnixDatagramSocket?
    private let writeLock = Mutex(())

    /// - Parameters:
    ///   - identifier: `SYSLOG_IDENTIFIER` of journal entries.
    ///   - fileDescriptor: where lines go (stderr; a pipe in tests).
    public init(destination: LogDestination, identifier: String = "imanage-tokend", fileDescriptor: CInt = STDERR_FILENO) {
        self.destination = destination
        self.identifier = identifier
        self.fileDescriptor = fileDescriptor
        if case .journal = destination {
            socket = UnixDatagramSocket()
            socket?.enlargeSendBuffer(to: 8 * 1024 * 1024)
        } else {
            socket = nil
        }
    }

    public func write(_ record: LogRecord) {
        switch destination {
        case .journal(let socketPath):
            if let socket, socket.send(JournalEntryEncoder.encode(record, identifier: identifier), to: socketPath) == 0 {
                return
            }
            writeLine(LogLineFormatter.format(record, priorityPrefix: true, timestamp: nil))
        case .standardError(let priorityPrefix, let timestamps):
            writeLine(LogLineFormatter.format(
                record, priorityPrefix: priorityPrefix, timestamp: timestamps ? Timestamp.now() : nil))
        }
    }

    private func writeLine(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            writeLock.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let written = systemWrite(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }
    }
}

/// `write(2)`, named apart from `LogWriter.write(_:)`.
private func systemWrite(_ descriptor: CInt, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(descriptor, buffer, count)
    #else
    Darwin.write(descriptor, buffer, count)
    #endif
}

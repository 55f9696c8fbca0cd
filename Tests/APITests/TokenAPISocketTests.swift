import Foundation
import Logging
import Testing
import TokendAPI
import TokendTestSupport

@Suite("The token API's socket: permissions, stale files, cleanup", .serialized)
struct TokenAPISocketTests {
    /// A group to give the socket: as root any existing group other than our own proves the chown;
    /// otherwise only our own group can be given.
    static func someGroup() -> (name: String, gid: gid_t) {
        if geteuid() == 0, let gid = SocketPermissions.groupID(named: "nogroup"), gid != getegid() { return ("nogroup", gid) }
        let own = getgrgid(getegid())!
        return (String(cString: own.pointee.gr_name), own.pointee.gr_gid)
    }

    @Test("the socket is mode 0660 with the configured group, and is removed at stop")
    func permissions() async throws {
        let group = Self.someGroup()
        let fixture = try await APIFixture.start(socketGroup: group.name)
        var info = stat()
        #expect(lstat(fixture.socketPath, &info) == 0)
        #expect(info.st_mode & mode_t(S_IFMT) == mode_t(S_IFSOCK))
        #expect(info.st_mode & 0o777 == 0o660)
        #expect(info.st_gid == group.gid)
        let path = fixture.socketPath
        await fixture.stop()
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("as root, the configured group is given even when it is not the process's own",
          .enabled(if: geteuid() == 0 && SocketPermissions.groupID(named: "nogroup").map { $0 != getegid() } == true))
    func groupGivenAsRoot() async throws {
        let gid = try #require(SocketPermissions.groupID(named: "nogroup"))
        let fixture = try await APIFixture.start(socketGroup: "nogroup")
        var info = stat()
        #expect(lstat(fixture.socketPath, &info) == 0)
        #expect(info.st_gid == gid && info.st_gid != getegid(), "the socket kept the process's group")
        await fixture.stop()
    }

    @Test("a missing group is an error at start, unless the socket's directory is private to the daemon's user")
    func missingGroup() async throws {
        let missing = "no-such-group-\(getpid())"
        // A shared directory: nobody in the group could connect, so the daemon does not start.
        do {
            _ = try await APIFixture.start(socketGroup: missing, directoryMode: 0o755)
            Issue.record("the API started without its group in a shared directory")
        } catch let error as APIServerError {
            guard case .socketGroupMissing(_, let group, true) = error else { throw error }
            #expect(group == missing)
            #expect(error.description.contains("api_socket_group"))
        }
        // The default group, missing, in a shared directory: the message says how to get out.
        if SocketPermissions.groupID(named: SocketPermissions.defaultGroup) == nil {
            do {
                _ = try await APIFixture.start(directoryMode: 0o755)
                Issue.record("the API started without its group in a shared directory")
            } catch let error as APIServerError {
                guard case .socketGroupMissing(_, _, false) = error else { throw error }
                #expect(error.description.contains("create it"))
                #expect(error.description.contains("0700"))
            }
        }
        // A private directory (as scripts/demo makes it): only a note; the socket keeps our group.
        let fixture = try await APIFixture.start(socketGroup: missing, directoryMode: 0o700)
        try await withTeardown({ await fixture.stop() }) {
            var info = stat()
            #expect(lstat(fixture.socketPath, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o660)
            #expect(info.st_gid == getegid())
            let answer = try await fixture.daemon.send(.GET, "/v1/status")
            #expect(answer.status == 200)
        }
    }

    @Test("a stale socket file is replaced; a live one and a non-socket are refused")
    func staleAndLive() async throws {
        let fixture = try await APIFixture.start()
        try await withTeardown({ await fixture.stop() }) {
            let service = TokenAPIService(engine: fixture.engine, store: fixture.store)

            // Live: the fixture's server answers there.
            await #expect(throws: APIServerError.socketInUse(path: fixture.socketPath)) {
                _ = try await TokenAPIServer.start(socketPath: fixture.socketPath, service: service, logger: Logger(label: "test"))
            }
            // Not a socket: left alone.
            let file = fixture.directory.appendingPathComponent("precious").path
            _ = FileManager.default.createFile(atPath: file, contents: Data("keep me".utf8))
            await #expect(throws: APIServerError.notASocket(path: file)) {
                _ = try await TokenAPIServer.start(socketPath: file, service: service, logger: Logger(label: "test"))
            }
            #expect(FileManager.default.contents(atPath: file) == Data("keep me".utf8))
            // Stale: a socket file nobody listens on, as a killed daemon leaves it.
            let stale = fixture.directory.appendingPathComponent("stale.sock").path
            try Self.leaveStaleSocket(at: stale)
            let second = try await TokenAPIServer.start(socketPath: stale, service: service, logger: Logger(label: "test"))
            let answer = try await DaemonClient(socketPath: stale).send(.GET, "/v1/status")
            #expect(answer.status == 200)
            await second.stop()
        }
    }

    /// Binds a Unix socket at `path` and closes it without removing the file.
    static func leaveStaleSocket(at path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = unixSocketAddress(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(fd)
        #expect(bound == 0)
        #expect(FileManager.default.fileExists(atPath: path))
    }
}

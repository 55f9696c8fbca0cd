import Foundation
import Testing
import TokendConfig

/// `database = "postgresql://…"`, `database_password_file` and what check-config says of mistakes.
@Suite("PostgreSQL database setting")
struct PostgresDatabaseConfigTests {
    @Test("a PostgreSQL URL with its password file is read; the password never shows")
    func readsURLAndPassword() throws {
        let fixture = try ConfigFixture()
        try fixture.write("db-password", "s3cret-pw\n")
        let config = try fixture.load(ConfigFixture.minimal.replacingOccurrences(of: "key_file", with: """
            database = "postgresql://tokend@db.example.com:6432/tokend?sslmode=verify-full"
            database_password_file = "db-password"
            key_file
            """))
        let url = try #require(config.postgres)
        #expect(url == PostgresURL(user: "tokend", host: "db.example.com", port: 6432, database: "tokend", tls: .verifyFull))
        #expect(config.database == "postgresql://tokend@db.example.com:6432/tokend?sslmode=verify-full")
        #expect(config.databasePassword?.reveal() == "s3cret-pw")
        #expect(config.databasePasswordFile == fixture.path("db-password"))
        #expect(!"\(config.databasePassword!)".contains("s3cret"))
    }

    @Test("a file path stays an SQLite database", arguments: ["data/tokend.sqlite", "/var/lib/x/tokend.sqlite"])
    func sqliteStays(_ path: String) throws {
        let fixture = try ConfigFixture()
        let config = try fixture.load("database = \"\(path)\"\n" + ConfigFixture.minimal)
        #expect(config.postgres == nil && config.databasePassword == nil)
    }

    @Test("mistakes are explained with what to write instead", arguments: [
        ("postgresql://tokend:pw@db.example.com/tokend", "database_password_file"),
        ("postgresql://db.example.com/tokend", "names no user"),
        ("postgresql://tokend@db.example.com/", "names no database"),
        ("postgresql://tokend@db.example.com/tokend?sslmode=prefer", "expected one of disable, require, verify-full"),
        ("postgresql://tokend@db.example.com/tokend?sslmode=disable", "another machine"),
        ("postgresql://tokend@db.example.com/tokend?application_name=x", "does not know"),
        ("postgresql://tokend@db.example.com:99999/tokend", "port"),
    ])
    func mistakes(_ url: String, _ says: String) throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem("database = \"\(url)\"\n" + ConfigFixture.minimal)
        #expect(problem.key == "database")
        #expect(problem.message.contains(says), "\(problem.message)")
        #expect(!problem.message.contains(":pw@"), "the password is not repeated")
    }

    @Test("sslmode=disable is allowed for this machine only, and verify-full is the default")
    func localAndDefaults() throws {
        #expect(try PostgresURL(parsing: "postgresql://tokend@127.0.0.1:5433/t?sslmode=disable").tls == .disable)
        #expect(try PostgresURL(parsing: "postgresql://tokend@localhost/t").tls == .verifyFull)
        let socket = try PostgresURL(parsing: "postgresql://tokend@/t?host=/run/postgresql&sslmode=disable")
        #expect(socket.host == "/run/postgresql" && socket.isLocal)
    }

    @Test("database_password_file is refused for SQLite, and checked like every secret file")
    func passwordFileChecks() throws {
        let fixture = try ConfigFixture()
        let forSQLite = try fixture.problem("database_password_file = \"db-password\"\n" + ConfigFixture.minimal)
        #expect(forSQLite.key == "database_password_file" && forSQLite.message.contains("only for a PostgreSQL database"))
        try fixture.write("open-password", "pw\n", mode: 0o644)
        let open = try fixture.problem("""
            database = "postgresql://tokend@db.example.com/tokend"
            database_password_file = "open-password"

            """ + ConfigFixture.minimal)
        #expect(open.key == "database_password_file" && open.message.contains("chmod 600"))
    }
}

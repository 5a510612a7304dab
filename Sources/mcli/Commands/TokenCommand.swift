import ArgumentParser
import Foundation
import MAuth
import mdb

/// `mcli token create|list|revoke`: API credentials for mweb.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API tokens.",
        subcommands: [TokenCreate.self, TokenList.self, TokenRevoke.self])
}

extension TokenScope: ExpressibleByArgument {}

/// `mcli token create --name N --scope read|steer|admin`: prints the secret once.
struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a token; its secret is printed once and stored only as a hash.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "A name to recognise it by (unique).")
    var name: String

    @Option(help: "read (observe), steer (also create runs, input, cancel, decide), admin (also tokens, notifiers).")
    var scope: TokenScope = .read

    func run() async throws {
        try await runCommand {
            let (token, secret) = try TokenCreate.create(try global.open(), name: name, scope: scope)
            if global.json {
                Output.line(TokenCreate.json(token, secret: secret))
            } else {
                Output.line(secret)
                Output.error("token \(token.id) '\(token.name)' (\(token.scope)) created; the secret above is shown only once")
            }
        }
    }

    /// Makes a token and returns it with its secret (the only time the secret exists);
    /// with `firstUseWithin`, a pairing token that must be used within that many seconds.
    static func create(_ db: MDatabase, name: String, scope: TokenScope,
                       firstUseWithin seconds: Double? = nil) throws -> (Token, String) {
        let secret = Secret.generate()
        return (try db.createToken(name: name, scope: scope, hash: Secret.hash(secret), firstUseWithin: seconds), secret)
    }

    /// `{"token": "m_…", "id": …, "name": …, "scope": …}`.
    static func json(_ token: Token, secret: String) -> String {
        JSONValue.object([
            ("token", .string(secret)), ("id", .int(token.id)), ("name", .string(token.name)),
            ("scope", .string(token.scope)), ("created_at", .string(token.createdAt)),
        ]).text
    }
}

/// `mcli token list`: every token (never the secrets: they are not stored).
struct TokenList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List tokens and their state: active, pairing (a link not used yet), expired (never used in time), revoked.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runCommand {
            let tokens = try global.open().tokens()
            if global.json {
                Output.line(JSONValue.object([("tokens", .array(tokens.map(TokenList.json)))]).text)
                return
            }
            if tokens.isEmpty { Output.line("no tokens: `mcli token create --name NAME --scope steer`"); return }
            let now = Timestamp.now()
            Output.line(Table.render(header: ["ID", "NAME", "SCOPE", "STATE", "CREATED", "LAST USED"], rows: tokens.map {
                [String($0.id), $0.name, $0.scope, $0.state(now: now).rawValue, $0.createdAt, $0.lastUsedAt ?? "-"]
            }))
        }
    }

    static func json(_ token: Token) -> JSONValue {
        .object([
            ("id", .int(token.id)), ("name", .string(token.name)), ("scope", .string(token.scope)),
            ("created_at", .string(token.createdAt)), ("last_used_at", token.lastUsedAt.map { .string($0) } ?? .null),
            ("revoked_at", token.revokedAt.map { .string($0) } ?? .null),
            ("use_by", token.useBy.map { .string($0) } ?? .null), ("state", .string(token.state().rawValue)),
        ])
    }
}

/// `mcli token revoke ID|NAME`: the token and its browser sessions stop working at once.
struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token by id or name.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The token's id or name.")
    var token: String

    func run() async throws {
        try await runCommand {
            let revoked = try global.open().revokeToken(token)
            if global.json {
                Output.line(TokenList.json(revoked).text)
            } else {
                Output.line("token \(revoked.id) '\(revoked.name)' revoked")
            }
        }
    }
}

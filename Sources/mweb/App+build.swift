import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import mdb

/// Builds the mweb application: the router (HTTP and WebSocket routes on one
/// router), the tailer service and the server (HTTP/1.1 with WebSocket
/// upgrade, TLS when configured). Tests call it with port 0 and a temp database.
/// `onListening` gets the URL once the server accepts connections.
func buildApplication(config: AppConfig, logger: Logger? = nil,
                      onListening: @escaping @Sendable (String) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let logger = logger ?? Logger(label: "mweb")
    let db = try MDatabase(path: config.databasePath)
    let fanOut = FanOut(clientQueueFrames: config.clientQueueFrames)
    let bell = PushBell()
    let searchBell: WakeBell? = config.searchIndex ? WakeBell() : nil
    let tailer = Tailer(databasePath: config.databasePath, fanOut: fanOut,
                        startAfterId: try db.lastEventId(),
                        logger: logger, bell: bell, searchBell: searchBell)
    let indexer: [any Service] = searchBell.map { [SearchIndexer(db: db, bell: $0, logger: logger)] } ?? []
    let links = PushLinks(publicURL: config.publicURL)
    let push = PushService(db: db, bell: bell, links: links, policy: config.pushRetry, logger: logger)
    let presence = Presence(db: db, config: config, logger: logger)
    let router = buildRouter(store: ThreadedStore(db: db), fanOut: fanOut, config: config)
    let scheme = config.tls == nil ? "http" : "https"
    let webSocketResponder = router.buildResponder()
    let tracker = ConnectionTracker(limit: ConnectionTracker.limit(configured: config.maxConnections))
    let tls = try config.tls.map(tlsConfiguration)
    let server = HTTPServerBuilder { responder in
        let http = GuardedChannel(
            base: HTTP1WebSocketUpgradeChannel(
                responder: responder, webSocketResponder: webSocketResponder,
                configuration: .init(http1: .init(idleTimeout: .seconds(config.idleTimeoutSeconds)),
                                     ws: .init(maxFrameSize: 1 << 20, autoPing: .enabled(timePeriod: .seconds(30))))),
            tracker: tracker, headerTimeout: .seconds(config.headerTimeoutSeconds))
        guard let tls else { return http }
        return try TLSChannel(http, tlsConfiguration: tls)
    }
    return Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "mweb"),
        services: [tailer, push, presence] + indexer,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? config.port
            links.listening(at: "\(scheme)://\(config.host):\(port)")
            await presence.listening(port: port)
            await onListening("\(scheme)://\(config.host):\(port)")
        },
        logger: logger
    )
}

/// Every route: `/healthz`, the web client, and `/api/v1` behind the authenticator.
func buildRouter(store: any MStore, fanOut: FanOut, config: AppConfig) -> Router<MRequestContext> {
    let router = Router(context: MRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    let limiter = FailedAuthLimiter(limit: config.failedAuthLimit)
    let authenticator = Authenticator(store: store, limiter: limiter, config: config)
    HealthController(store: store).addRoutes(to: router)
    let api = router.group("api/v1").add(middleware: CrossSiteGuard(config: config))
    SessionController(store: store, authenticator: authenticator, config: config).addRoutes(to: api)
    // A notification's buttons carry an action token, not an API token: outside the authenticator.
    ActionsController(store: store).addRoutes(to: api)
    let guarded = api.group().add(middleware: authenticator)
    RunsController(store: store).addRoutes(to: guarded)
    EventsController(store: store).addRoutes(to: guarded)
    ApprovalsController(store: store).addRoutes(to: guarded)
    DiffsController(store: store).addRoutes(to: guarded)
    SearchController(store: store).addRoutes(to: guarded)
    TranscriptController(store: store).addRoutes(to: guarded)
    NotifiersController(store: store).addRoutes(to: guarded)
    PushController(store: store).addRoutes(to: guarded)
    StreamController(store: store, fanOut: fanOut, config: config).addRoutes(to: guarded)
    StaticController().addRoutes(to: router, api: guarded)
    return router
}

/// A server TLS configuration from PEM files, with errors that name the file.
private func tlsConfiguration(_ files: AppConfig.TLSFiles) throws -> TLSConfiguration {
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    do {
        chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
    } catch {
        throw MWebError.tls("cannot read the certificate \(files.certificate) (\(error)): give a PEM file")
    }
    do {
        key = try NIOSSLPrivateKey(file: files.key, format: .pem)
    } catch {
        throw MWebError.tls("cannot read the private key \(files.key) (\(error)): give an unencrypted PEM file")
    }
    return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
}

/// Why mweb cannot start, in words that say what to do.
enum MWebError: Error, CustomStringConvertible {
    case tls(String)
    case usage(String)

    var description: String {
        switch self {
        case .tls(let message), .usage(let message): return message
        }
    }
}

import EmuPOSIX
import EmuCore
import EmuRecords

/// The far side of a remote sink: `emu serve` on the ssh channel's stdin and
/// stdout. It serves one sink (`--sink PATH`) or any sink below a root
/// (`--root DIR`), never a path outside it, and answers requests with the
/// local `Sink` until the client closes the channel.
public final class SinkServer {
    package let reader: FrameReader
    package let writer: FrameWriter
    package let servedSink: String?
    package let root: String?
    /// With `root`: the client whose area (`root/client`) this key reaches; nil for an administrator's key.
    package let client: String?
    package let mode: ServeMode
    package var sink: Sink? = nil
    /// The sink's path as the client's hello names it.
    package var requested = ""
    /// What opening the sink made (`made DIR`, `created`), said in the hello.
    package var made: [String] = []
    /// The tree a checkout is reading (see `answerRestore`).
    package var restoring: (id: String, tree: DirectoryCursor)? = nil
    /// Its buffer holds each piece of a file or manifest sent: one for the session, not one a file.
    package let copier = DataCopier()

    /// How long a session may wait for its client: 10 minutes, past any
    /// pause a working client makes (it hashes a large file before sending).
    public static let defaultIdleTimeout = 600

    public init(input: OpenFile, output: OpenFile, sink: String?, root: String?, client: String? = nil, mode: ServeMode,
                idleTimeout: Int? = SinkServer.defaultIdleTimeout) {
        reader = FrameReader(input, peer: "the client", idleTimeout: idleTimeout)
        writer = FrameWriter(output)
        servedSink = sink
        self.root = root
        self.client = client
        self.mode = mode
    }

    /// Whether `name` can follow `--client`: one plain path component.
    public static func isClientName(_ name: String) -> Bool { ServedArea.isClientName(name) }

    /// Serves until the client closes the channel; throws only when the
    /// channel itself fails (a refused hello has been answered already).
    public func run() throws {
        guard let hello = try reader.next() else { return }
        do {
            requested = try requestedPath(hello)
            let asked = hello.text.split(separator: "\n")
            // `plan`: `sink add -n` asks what a `create` would do here, and nothing is made.
            let planned = asked.contains("plan") ? try plannedCreation(requested) : []
            if planned.isEmpty { sink = try open(requested, creating: asked.contains("create")) }
            // The idle timeout is said, so that a client with a long quiet stretch (a walk of unchanged files) speaks in time.
            try writer.send(Frame(.hello, text: "\(Wire.greeting) \(Wire.protocolVersion)\nemu \(emuVersion)\nmode \(mode.rawValue)\n"
                                  + "idle \(reader.idleTimeout ?? 0)\n" + (sink?.indexHoldsNothing == true ? "index empty\n" : "")
                                  + (planned + made).map { $0 + "\n" }.joined()))
            try writer.flush()
        } catch {
            try writer.send(errorFrame(for: error))
            return try writer.flush()
        }
        // What is answered goes out before the session ends, however it ends: a client that kept sending still hears why.
        defer { try? writer.flush() }
        while let frame = try reader.next() {
            guard frame.kind == .request else {
                let error = EmuError.failed("the client sent a \(frame.kind) frame where a request belongs", fix: "run the command again")
                try writer.send(errorFrame(for: error))
                throw error
            }
            do { try answer(try Request(decoding: frame)) } catch let error as EmuError where error.brokeTheChannel {
                throw error
            } catch {
                try writer.send(errorFrame(for: error))
            }
            // Answers go out together while more requests wait here: ssh pays per packet.
            if !reader.holdsAFrame { try writer.flush() }
        }
    }

    /// An error frame that names paths as the client does: the sink by the
    /// path the client asked for, the root as the forced command names it,
    /// never where symlinks lead on the server.
    package func errorFrame(for error: Error) -> Frame {
        var text = Wire.frame(for: error).text
        if let path = sink?.path, !requested.isEmpty { text = Self.replacing(path: path, with: requested, in: text) }
        if let root, let resolvedRoot = resolvedPath(root), resolvedRoot != root { text = Self.replacing(path: resolvedRoot, with: root, in: text) }
        return Frame(.error, text: text)
    }

    /// `text` with each mention of `path` or a path below it (not a longer
    /// name that starts the same) said as `replacement`.
    package static func replacing(path: String, with replacement: String, in text: String) -> String {
        var result = "", rest = text[...]
        while let found = rest.firstRange(of: path) {
            let next = rest[found.upperBound...].first
            let whole = next == nil || next == "/" || !(next!.isLetter || next!.isNumber || "-_.".contains(next!))
            result += rest[..<found.lowerBound] + (whole ? replacement : path)
            rest = rest[found.upperBound...]
        }
        return result + rest
    }

    /// The sink path the client's hello names, after checking its version.
    package func requestedPath(_ hello: Frame) throws -> String {
        let lines = hello.text.split(separator: "\n").map(String.init)
        guard hello.kind == .hello, let first = lines.first, first.hasPrefix(Wire.greeting + " ") else {
            throw EmuError.failed("the client did not start with emu's hello", fix: "connect with `emu`, not another program")
        }
        let version = Int(first.dropFirst(Wire.greeting.count + 1)) ?? 0
        guard version == Wire.protocolVersion else {
            throw EmuError.failed("this server's emu \(emuVersion) speaks protocol \(Wire.protocolVersion), the client's speaks \(version)",
                                  fix: "install the same version of emu on both machines")
        }
        return lines.first { $0.hasPrefix("sink ") }.map { String($0.dropFirst(5)) } ?? ""
    }

    /// Opens the sink a client asks for, within what this server serves.
    package func open(_ requested: String, creating: Bool) throws -> Sink {
        let path = try servedPath(requested)
        if creating && !isDirectory(path + "/.emu/nodes") {
            guard mode != .readOnly else { throw EmuError.usage("this key is read-only: it cannot make a sink", fix: "use a key that may write") }
            guard case .create(let directories) = try Sink.plannedCreation(at: path, force: false) else { return try openExisting(path) }
            _ = try Sink.create(at: path)
            // Said in the hello, as a local `sink add` says what it made.
            made = directories.map { "made \(shown($0))" } + ["created"]
        }
        let sink = try openExisting(path)
        if let root, let resolvedRoot = resolvedPath(root) {
            // The root's shared index or the sink's own: never an index a sink's own file names elsewhere.
            sink.permittedSharedIndex = SinkLayout.sharedIndexLocation(under: resolvedRoot)
            if mode != .readOnly { try sink.shareIndex(under: resolvedRoot) }
        }
        return sink
    }

    /// Where the sink a client asks for lies here, within what this server serves.
    package func servedPath(_ requested: String) throws -> String {
        if let servedSink {
            guard requested.isEmpty || resolvedPath(requested) == resolvedPath(servedSink) else {
                throw EmuError.usage("this server serves the sink at \(servedSink) only, not \(requested)",
                                     fix: "register the sink with that path")
            }
            return servedSink
        }
        guard let root else { throw EmuError.usage("emu serve needs --sink PATH or --root DIR", fix: "name what it serves") }
        return try ServedArea(root: root, client: client).sinkPath(requested)
    }

    /// `sink add -n`: what a `create` would do (`plan attach`, or `plan create` and each `would-make DIR`), making nothing.
    package func plannedCreation(_ requested: String) throws -> [String] {
        let path = try servedPath(requested)
        switch try Sink.plannedCreation(at: path, force: false) {
        case .attach: return ["plan attach"]
        case .create(let directories):
            guard mode != .readOnly else { throw EmuError.usage("this key is read-only: it cannot make a sink", fix: "use a key that may write") }
            return ["plan create"] + directories.map { "would-make \(shown($0))" }
        }
    }

    /// A path here as its client may see it: under `--root`, from the root on (the root's own place is the server's business).
    package func shown(_ path: String) -> String {
        guard let root, isPath(path, within: root) else { return path }
        return String(path.dropFirst(root.count)).drop { $0 == "/" }.description
    }

    package func openExisting(_ path: String) throws -> Sink {
        // Named by its path: the name messages give it on this side.
        guard let sink = try Sink.open(SinkRegistration(name: path, path: path), writable: mode != .readOnly) else {
            throw EmuError.failed("there is no sink at \(path) on this server", fix: "add it with `emu sink add NAME ADDRESS`, which makes it")
        }
        return sink
    }

    package func refuse(_ request: Request, unless allowed: Bool) throws {
        guard !allowed else { return }
        throw EmuError.failed("this key is \(mode.rawValue): \(request.action) is refused",
                             fix: mode == .appendOnly ? "run prune, squash and clean on the server" : "use a key that may write")
    }
}

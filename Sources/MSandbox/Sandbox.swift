import Foundation
import MProcess
#if canImport(Glibc)
import Glibc
#endif

/// Confinement of a `host_self` agent with bubblewrap: its own mount, PID and
/// IPC namespaces, in which
/// - the workspace is writable, and a private `/tmp` and an empty `HOME`;
/// - the system (`/usr`, `/etc`, `/bin`, `/lib*`, `/sbin`, `/opt`) is read-only,
///   and so are the folders the agent's tools come from outside it (the PATH's,
///   the toolchain libraries mcli links against) and mcli itself;
/// - the database, its `-wal`/`-shm`, the runs directory (other runs' sockets,
///   the writer socket, executor logs) and the other workspaces do not exist;
///   the run's own agent socket is bound in at its path;
/// - only its own processes are visible (`/proc` is the namespace's);
/// - the network is there unless the run says `network: false`.
/// It is still the host kernel, and the same Unix user: see docs/SANDBOX.md.
public enum Sandbox {
    /// The confinement a run asked for and what is in force.
    public enum Mode: String, Sendable {
        case bwrap, none
    }

    /// The bubblewrap binary, looked up on PATH.
    public static func bwrapPath() -> String? { Bubblewrap.path() }

    /// Nil when bubblewrap can create the namespaces here, else what is wrong and how to fix it.
    /// Blocks for one short child process: call it off the cooperative pool.
    public static func probe() -> String? {
        switch Bubblewrap.probe() {
        case nil: return nil
        case .missing?:
            return "bubblewrap (bwrap) is not installed, so this run's agent is NOT confined: install it (apt-get install bubblewrap) or create the run with sandbox: \"none\" to accept that"
        case .cannotStart(let error)?:
            return "bwrap cannot be started (\(error)), so this run's agent is NOT confined"
        case .noNamespaces?:
            return "bwrap cannot create namespaces here (in a container, allow user namespaces, or run with --privileged / a seccomp profile that permits them), so this run's agent is NOT confined; create the run with sandbox: \"none\" to accept that"
        }
    }

    /// Top-level folders bound read-only as they are (symbolic links stay links).
    static let systemFolders = ["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt"]

    /// The bwrap command line that runs `argv` confined.
    public static func wrap(_ argv: [String], bwrap: String, workspace: String, socketPath: String, binDirectory: String,
                     home: String?, network: Bool, readOnly: [String] = [], writable: [String] = [],
                     extraReadOnly: [String], hidden: [String]) -> [String] {
        // No `--die-with-parent`: its PR_SET_PDEATHSIG follows the *thread* that started bwrap,
        // and the executor's threads come and go, which killed runs after a few seconds. What
        // ends the sandbox instead: the agent's exit ends its PID namespace, and every signal to
        // the agent's process group (cancel, end of run, the reaper of a lost run) reaches all of it.
        var args = [bwrap, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        if !network { args.append("--unshare-net") }
        // No `--new-session`: the agent stays in its executor's process group, so a cancel's
        // SIGINT reaches it as before; the executor has its own session and no terminal, so
        // there is none outside to push input into (TIOCSTI).
        let fm = FileManager.default
        for folder in systemFolders {
            if let target = try? fm.destinationOfSymbolicLink(atPath: folder) {
                args += ["--symlink", target, folder]
            } else if fm.fileExists(atPath: folder) {
                args += ["--ro-bind", folder, folder]
            }
        }
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run"]
        // /etc/resolv.conf is often a link into /run (systemd-resolved): names must still resolve.
        args += ["--ro-bind-try", "/run/systemd/resolve", "/run/systemd/resolve"]
        if let home, home.hasPrefix("/"), home != "/" { args += ["--tmpfs", home] }
        // Folders of the agent's tools outside the system tree, read-only (after HOME's tmpfs,
        // so a toolchain under HOME, such as pyenv, shows through it).
        for folder in extraReadOnly where !systemFolders.contains(where: { folder == $0 || folder.hasPrefix($0 + "/") }) {
            args += ["--ro-bind-try", folder, folder]
        }
        // The configuration's own paths (`--sandbox-read`, `--sandbox-write`), checked at startup.
        for path in readOnly { args += ["--ro-bind-try", path, path] }
        for path in writable { args += ["--bind-try", path, path] }
        // M's binaries' folder (mcli, and tools kept beside it such as mbench's agent), or
        // only mcli when that folder also holds M's files (a database kept beside the binaries).
        if Sandbox.holdsHidden(binDirectory, hidden: hidden) {
            args += ["--ro-bind", binDirectory + "/mcli", binDirectory + "/mcli"]
        } else {
            args += ["--ro-bind", binDirectory, binDirectory]
            // A build folder is often reached through a link beside it (SwiftPM's `.build/release`
            // → `x86_64-unknown-linux-gnu/release`): commands name that path, so the link is made too.
            for link in linksTo(binDirectory) { args += ["--symlink", link.target, link.path] }
        }
        args += ["--bind", workspace, workspace, "--bind", socketPath, socketPath, "--chdir", workspace]
        // A clone's config is read-only inside: the filters and drivers M switches off before
        // each of its git calls (mgit's `driverOverrides`) cannot change between M's reading
        // the config and M's call. (The agent's own `git config` fails; `--global` goes to the
        // sandbox's private HOME.)
        let config = workspace + "/.git/config"
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: config, isDirectory: &isDirectory), !isDirectory.boolValue,
           (try? fm.destinationOfSymbolicLink(atPath: config)) == nil {
            args += ["--ro-bind", config, config]
        }
        args += ["--cap-drop", "ALL", "--", "/usr/bin/env", "--default-signal=INT,TERM,HUP,QUIT"]
        // bwrap leads the agent's process group but does not pass signals on: a cancel's SIGINT
        // would end bwrap, and its death SIGKILL the agent before it could stop gracefully. So
        // bwrap starts with those signals ignored (a shell sets that, then execs it), and `env`
        // restores them for the agent, which gets the group's signals itself.
        return ["/bin/sh", "-c", "trap '' INT TERM HUP QUIT; exec \"$@\"", "m-sandbox"] + args + argv
    }

    /// Symbolic links in the folder above `folder` and the one above that which lead to `folder`.
    static func linksTo(_ folder: String) -> [(path: String, target: String)] {
        let fm = FileManager.default
        let parent = (folder as NSString).deletingLastPathComponent
        var found: [(String, String)] = []
        for dir in [parent, (parent as NSString).deletingLastPathComponent] where dir != "/" {
            for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] {
                let path = dir + "/" + name
                guard let target = try? fm.destinationOfSymbolicLink(atPath: path),
                      URL(fileURLWithPath: path).resolvingSymlinksInPath().path == folder else { continue }
                found.append((path, target))
            }
        }
        return found
    }

    /// Folders the agent's tools come from: the PATH's entries and the folders of the shared
    /// libraries this executor has loaded (mcli links against the same Swift runtime), each
    /// existing and absolute, never one that holds the database's folder (and so the runs
    /// directory) or the workspaces root.
    public static func toolFolders(path: String, hiding: [String]) -> [String] {
        var folders: [String] = path.split(separator: ":").map(String.init).filter { $0.hasPrefix("/") }
        if let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) {
            for line in maps.split(separator: "\n") {
                guard let slash = line.firstIndex(of: "/") else { continue }
                let file = String(line[slash...])
                if file.contains(".so") { folders.append((file as NSString).deletingLastPathComponent) }
            }
        }
        var seen = Set<String>()
        return folders.filter { folder in
            guard seen.insert(folder).inserted, FileManager.default.fileExists(atPath: folder) else { return false }
            // Binding a folder that holds M's files would bring them back in.
            return !holdsHidden(folder, hidden: hiding)
        }
    }

    /// Whether binding `folder` would bring in one of `hidden`'s folders (the database's
    /// folder, the workspaces root): it is one of them or an ancestor.
    static func holdsHidden(_ folder: String, hidden: [String]) -> Bool {
        hidden.map { ($0 as NSString).deletingLastPathComponent }.contains { $0 == folder || $0.hasPrefix(folder + "/") }
    }
}

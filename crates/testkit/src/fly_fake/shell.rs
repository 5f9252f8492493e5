//! The deterministic "shell" behind `POST …/exec`, and the process list of `GET …/ps`.
//!
//! Known commands: `ls [-la] [path…]`, `echo [-n] …`, `cat [file…]` (or stdin), `uname [-asnrm]`,
//! `hostname`, `pwd`, `whoami`, `id`, `env`/`printenv`, `date`, `true`, `false`, `sleep`, and
//! `sh -c "<one command>"`. Anything else exits 127 with `sh: <cmd>: not found`.

use chrono::DateTime;
use serde_json::{Value, json};

use super::world::Machine;

/// What a command produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Output {
    pub(crate) exit_code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

fn ok(stdout: impl Into<String>) -> Output {
    Output { exit_code: 0, stdout: stdout.into(), stderr: String::new() }
}

/// Top-level directories of the fake root filesystem.
const ROOT: &[&str] = &["bin", "dev", "etc", "home", "root", "tmp", "usr", "var"];

enum Node {
    Dir(Vec<String>),
    File(String),
}

fn mount_points(m: &Machine) -> Vec<String> {
    let mounts = m.config.get("mounts").and_then(Value::as_array).cloned().unwrap_or_default();
    mounts.iter().filter_map(|x| x.get("path").and_then(Value::as_str)).map(normalize).collect()
}

fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    format!("/{}", parts.join("/"))
}

fn lookup(m: &Machine, path: &str) -> Option<Node> {
    let path = normalize(path);
    let mounts = mount_points(m);
    let names = |v: &[&str]| Node::Dir(v.iter().map(|s| (*s).to_owned()).collect());
    Some(match path.as_str() {
        "/" => {
            let mut entries: Vec<String> = ROOT.iter().map(|s| (*s).to_owned()).collect();
            for p in &mounts {
                let top = p.trim_start_matches('/').split('/').next().unwrap_or_default().to_owned();
                if !top.is_empty() && !entries.contains(&top) {
                    entries.push(top);
                }
            }
            entries.sort();
            Node::Dir(entries)
        }
        "/bin" => names(&["cat", "echo", "hostname", "ls", "sh", "uname"]),
        "/etc" => names(&["hostname", "hosts", "os-release", "passwd"]),
        "/usr" => names(&["bin", "lib", "local", "share"]),
        "/var" => names(&["lib", "log", "tmp"]),
        "/dev" | "/home" | "/root" | "/tmp" | "/usr/bin" | "/usr/lib" | "/usr/local" | "/usr/share" | "/var/lib"
        | "/var/log" | "/var/tmp" => Node::Dir(Vec::new()),
        "/etc/hostname" => Node::File(format!("{}\n", m.id)),
        "/etc/hosts" => Node::File(format!("127.0.0.1\tlocalhost\n{}\t{}\n", m.private_ip, m.id)),
        "/etc/passwd" => Node::File("root:x:0:0:root:/root:/bin/sh\n".into()),
        "/etc/os-release" => Node::File(os_release(m)),
        p if p.starts_with("/bin/") && lookup(m, "/bin").is_some_and(|d| has(&d, &p[5..])) => {
            Node::File("\u{7f}ELF".into())
        }
        p if mounts.iter().any(|mp| mp == p) => Node::Dir(vec!["lost+found".into()]),
        p if mounts.iter().any(|mp| p.strip_prefix(mp.as_str()) == Some("/lost+found")) => Node::Dir(Vec::new()),
        _ => return None,
    })
}

fn has(dir: &Node, name: &str) -> bool {
    matches!(dir, Node::Dir(v) if v.iter().any(|n| n == name))
}

fn os_release(m: &Machine) -> String {
    let image = m.config.get("image").and_then(Value::as_str).unwrap_or_default();
    let (name, id, version) = if image.contains("alpine") {
        ("Alpine Linux", "alpine", "3.20.3")
    } else if image.contains("debian") {
        ("Debian GNU/Linux", "debian", "12")
    } else {
        ("Ubuntu", "ubuntu", "24.04")
    };
    format!("NAME=\"{name}\"\nID={id}\nVERSION_ID=\"{version}\"\nPRETTY_NAME=\"{name} {version}\"\n")
}

fn ls(m: &Machine, args: &[String]) -> Output {
    let (flags, mut paths): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| a.starts_with('-') && a.len() > 1);
    let all = flags.iter().any(|f| f.contains('a'));
    let long = flags.iter().any(|f| f.contains('l'));
    let dot = ".".to_owned();
    if paths.is_empty() {
        paths.push(&dot);
    }
    let date =
        DateTime::parse_from_rfc3339(&m.created_at).map(|t| t.format("%b %e %H:%M").to_string()).unwrap_or_default();
    let line = |name: &str, dir: bool| {
        if long {
            let (mode, links, size) = if dir { ("drwxr-xr-x", 2, 4096) } else { ("-rw-r--r--", 1, 64) };
            format!("{mode} {links:>2} root root {size:>5} {date} {name}\n")
        } else {
            format!("{name}\n")
        }
    };
    let mut out = Output::default();
    let many = paths.len() > 1;
    for (i, p) in paths.iter().enumerate() {
        let full = if p.starts_with('/') { (*p).clone() } else { format!("/{p}") };
        match lookup(m, &full) {
            None => {
                out.stderr.push_str(&format!("ls: cannot access '{p}': No such file or directory\n"));
                out.exit_code = 2;
            }
            Some(Node::File(_)) => out.stdout.push_str(&line(p, false)),
            Some(Node::Dir(entries)) => {
                if many {
                    out.stdout.push_str(&format!("{}{p}:\n", if i > 0 { "\n" } else { "" }));
                }
                let mut names: Vec<(String, bool)> = Vec::new();
                if all {
                    names.push((".".into(), true));
                    names.push(("..".into(), true));
                }
                for e in entries {
                    let child = format!("{}/{e}", full.trim_end_matches('/'));
                    names.push((e, matches!(lookup(m, &child), Some(Node::Dir(_)))));
                }
                if long {
                    out.stdout.push_str(&format!("total {}\n", names.len() * 4));
                }
                for (n, dir) in names {
                    out.stdout.push_str(&line(&n, dir));
                }
            }
        }
    }
    out
}

fn uname(m: &Machine, args: &[String]) -> String {
    let flags: String = args.iter().filter_map(|a| a.strip_prefix('-')).collect();
    let parts: Vec<String> = if flags.contains('a') {
        vec![
            "Linux".into(),
            m.id.clone(),
            "6.1.0-fly".into(),
            "#1 SMP PREEMPT_DYNAMIC".into(),
            "x86_64".into(),
            "GNU/Linux".into(),
        ]
    } else if flags.is_empty() {
        vec!["Linux".into()]
    } else {
        flags
            .chars()
            .filter_map(|c| match c {
                's' => Some("Linux".to_owned()),
                'n' => Some(m.id.clone()),
                'r' => Some("6.1.0-fly".to_owned()),
                'm' | 'p' | 'i' => Some("x86_64".to_owned()),
                'o' => Some("GNU/Linux".to_owned()),
                _ => None,
            })
            .collect()
    };
    format!("{}\n", parts.join(" "))
}

fn env_vars(m: &Machine) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = m
        .config
        .get("env")
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default();
    vars.push(("FLY_APP_NAME".into(), m.app.clone()));
    vars.push(("FLY_MACHINE_ID".into(), m.id.clone()));
    vars.push(("FLY_REGION".into(), m.region.clone()));
    vars.push(("HOME".into(), "/root".into()));
    vars.push(("HOSTNAME".into(), m.id.clone()));
    vars.push(("PATH".into(), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()));
    vars.sort();
    vars
}

/// Runs `argv` "inside" `m`.
pub(crate) fn run(m: &Machine, argv: &[String], stdin: Option<&str>) -> Output {
    let Some(first) = argv.first() else { return ok("") };
    let cmd = first.rsplit('/').next().unwrap_or(first);
    let args = &argv[1..];
    match cmd {
        "ls" => ls(m, args),
        "echo" => match args.first().map(String::as_str) {
            Some("-n") => ok(args[1..].join(" ")),
            _ => ok(format!("{}\n", args.join(" "))),
        },
        "cat" if args.is_empty() => ok(stdin.unwrap_or_default()),
        "cat" => {
            let mut out = Output::default();
            for f in args {
                match lookup(m, &format!("/{f}")) {
                    Some(Node::File(text)) => out.stdout.push_str(&text),
                    Some(Node::Dir(_)) => {
                        out.stderr.push_str(&format!("cat: {f}: Is a directory\n"));
                        out.exit_code = 1;
                    }
                    None => {
                        out.stderr.push_str(&format!("cat: {f}: No such file or directory\n"));
                        out.exit_code = 1;
                    }
                }
            }
            out
        }
        "uname" => ok(uname(m, args)),
        "hostname" => ok(format!("{}\n", m.id)),
        "pwd" => ok("/\n"),
        "whoami" => ok("root\n"),
        "id" => ok("uid=0(root) gid=0(root) groups=0(root)\n"),
        "env" | "printenv" if args.is_empty() => {
            ok(env_vars(m).iter().map(|(k, v)| format!("{k}={v}\n")).collect::<String>())
        }
        "printenv" => {
            let vars = env_vars(m);
            let found: Vec<&String> =
                args.iter().filter_map(|a| vars.iter().find(|(k, _)| k == a).map(|(_, v)| v)).collect();
            let code = if found.len() == args.len() { 0 } else { 1 };
            Output { exit_code: code, stdout: found.iter().map(|v| format!("{v}\n")).collect(), stderr: String::new() }
        }
        "date" => ok(format!("{}\n", chrono::Utc::now().format("%a %b %e %H:%M:%S UTC %Y"))),
        "true" | "sleep" => ok(""),
        "false" => Output { exit_code: 1, ..Output::default() },
        "sh" | "bash" if args.first().map(String::as_str) == Some("-c") => {
            let line: Vec<String> =
                args.get(1).map(|s| s.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
            run(m, &line, stdin)
        }
        _ => Output { exit_code: 127, stdout: String::new(), stderr: format!("sh: {first}: not found\n") },
    }
}

/// The main process's command line: `init.cmd` (or `init.exec`), else the image's default.
fn main_command(m: &Machine) -> String {
    let init = m.config.get("init");
    for key in ["exec", "cmd"] {
        if let Some(cmd) = init.and_then(|i| i.get(key)).and_then(Value::as_array).filter(|a| !a.is_empty()) {
            return cmd.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ");
        }
    }
    let image = m.config.get("image").and_then(Value::as_str).unwrap_or_default();
    let base = image.rsplit('/').next().unwrap_or(image).split([':', '@']).next().unwrap_or_default();
    match base {
        "nginx" => "nginx: master process nginx -g daemon off;",
        "ubuntu" | "debian" => "/bin/bash",
        "alpine" | "busybox" => "/bin/sh",
        "redis" => "redis-server *:6379",
        "postgres" => "postgres",
        _ => "/docker-entrypoint.sh",
    }
    .to_owned()
}

/// `GET …/ps` (`fixtures/fly/ps.json`): `/.fly/init` as pid 1 and the main process.
pub(crate) fn processes(m: &Machine) -> Value {
    let stime = m.created_ms / 1000;
    let services = m.config.get("services").and_then(Value::as_array).cloned().unwrap_or_default();
    let sockets: Vec<Value> = services
        .iter()
        .filter_map(|s| {
            let port = s.get("internal_port")?.as_u64()?;
            let proto = s.get("protocol").and_then(Value::as_str).unwrap_or("tcp");
            Some(json!({"proto": proto, "address": format!("0.0.0.0:{port}")}))
        })
        .collect();
    json!([
        {"pid": 1, "stime": stime, "rtime": 12, "command": "/.fly/init", "directory": "/", "cpu": 0, "rss": 4096,
         "listen_sockets": []},
        {"pid": 312, "stime": stime + 1, "rtime": 840, "command": main_command(m), "directory": "/", "cpu": 1,
         "rss": 12288, "listen_sockets": sockets},
    ])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn machine() -> Machine {
        Machine {
            id: "3d8d9016b11e89".into(),
            app: "a".into(),
            name: "m".into(),
            state: "started".into(),
            region: "sjc".into(),
            instance_id: String::new(),
            private_ip: "fdaa::2".into(),
            config: json!({"image": "alpine:3.20", "env": {"A": "1"}, "mounts": [{"volume": "vol_1", "path": "/data"}]}),
            created_at: "2024-06-20T11:21:04Z".into(),
            created_ms: 0,
            updated_at: String::new(),
            events: Vec::new(),
            generation: 0,
            pending: None,
        }
    }

    fn sh(argv: &[&str]) -> Output {
        run(&machine(), &argv.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(), Some("in"))
    }

    #[test]
    fn commands_are_deterministic() {
        assert_eq!(sh(&["ls"]).stdout, "bin\ndata\ndev\netc\nhome\nroot\ntmp\nusr\nvar\n");
        let long = sh(&["/bin/ls", "-la", "/etc"]).stdout;
        assert!(long.starts_with("total 24\ndrwxr-xr-x  2 root root  4096 Jun 20 11:21 .\n"), "{long}");
        assert!(long.contains("-rw-r--r--  1 root root    64 Jun 20 11:21 hostname\n"), "{long}");
        let missing = sh(&["ls", "/nope"]);
        assert_eq!(
            (missing.exit_code, missing.stderr.as_str()),
            (2, "ls: cannot access '/nope': No such file or directory\n")
        );
        assert_eq!(sh(&["echo", "-n", "a", "b"]).stdout, "a b");
        assert_eq!(sh(&["cat"]).stdout, "in");
        assert!(sh(&["cat", "/etc/os-release"]).stdout.contains("Alpine"));
        assert_eq!(sh(&["sh", "-c", "printenv A"]).stdout, "1\n");
        assert_eq!(sh(&["uname", "-sn"]).stdout, "Linux 3d8d9016b11e89\n");
        assert_eq!(sh(&["false"]).exit_code, 1);
        assert_eq!(processes(&machine())[1]["command"], "/bin/sh");
    }
}

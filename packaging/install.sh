#!/bin/sh
# OfficeBox installer for systemd hosts. Run as root.
#
#   packaging/install.sh [--no-start] [BINARY]     install or upgrade
#   packaging/install.sh --uninstall               remove binary and unit, keep data
#
# BINARY defaults to ./target/release/officebox (build it with
# `cargo build --release --locked`).
#
# What it does (safe to run again; that is also how you upgrade):
#   * installs BINARY as /usr/local/bin/officebox (atomic replace)
#   * creates the system user `officebox` if missing
#   * creates /var/lib/officebox (data, mode 0700) and /etc/officebox
#   * creates /etc/officebox/officebox.toml from officebox.toml.example,
#     only if it does not exist (never overwritten)
#   * installs /etc/systemd/system/officebox.service (a changed copy is kept
#     as officebox.service.bak; put local changes in `systemctl edit officebox`)
#   * systemctl daemon-reload, then enable --now (or restart when it was running)
#
# --no-start  install everything but neither enable, start nor restart the service.
# --uninstall stop and disable the service, remove the unit and the binary.
#             /var/lib/officebox, /etc/officebox and the user are kept.

set -eu

PREFIX_BIN=/usr/local/bin
BIN_PATH=$PREFIX_BIN/officebox
UNIT_PATH=/etc/systemd/system/officebox.service
CONF_DIR=/etc/officebox
CONF_PATH=$CONF_DIR/officebox.toml
DATA_DIR=/var/lib/officebox
DOC_DIR=/usr/local/share/doc/officebox
SVC_USER=officebox
SERVICE=officebox.service

SCRIPT_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

say() { printf '%s\n' "officebox-install: $*"; }
die() { printf '%s\n' "officebox-install: error: $*" >&2; exit 1; }

usage() {
    cat <<EOF
Usage: $0 [--no-start] [BINARY]
       $0 --uninstall

Installs or upgrades OfficeBox as a systemd service (run as root).
BINARY defaults to ./target/release/officebox.

  --no-start   install files only; do not enable, start or restart the service
  --uninstall  stop/disable the service, remove the unit and the binary
               (keeps $DATA_DIR, $CONF_DIR and the '$SVC_USER' user)
  -h, --help   show this help
EOF
}

# ---------------------------------------------------------------- args ----
NO_START=0
UNINSTALL=0
BINARY=
while [ $# -gt 0 ]; do
    case $1 in
        --no-start) NO_START=1 ;;
        --uninstall) UNINSTALL=1 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; break ;;
        -*) usage >&2; die "unknown option: $1" ;;
        *)
            [ -z "$BINARY" ] || die "only one BINARY may be given"
            BINARY=$1
            ;;
    esac
    shift
done
if [ $# -gt 0 ]; then
    if [ -n "$BINARY" ] || [ $# -gt 1 ]; then
        die "only one BINARY may be given"
    fi
    BINARY=$1
fi
BINARY=${BINARY:-./target/release/officebox}

[ "$(id -u)" -eq 0 ] || die "must be run as root (try: sudo $0 ...)"

# systemd present and running as init? (not the case in most containers)
HAVE_SYSTEMD=0
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    HAVE_SYSTEMD=1
fi

# ----------------------------------------------------------- uninstall ----
if [ "$UNINSTALL" -eq 1 ]; then
    if [ "$HAVE_SYSTEMD" -eq 1 ]; then
        if systemctl is-active --quiet "$SERVICE" || systemctl is-enabled --quiet "$SERVICE" 2>/dev/null; then
            say "stopping and disabling $SERVICE"
            systemctl disable --now "$SERVICE"
        fi
    fi
    if [ -e "$UNIT_PATH" ]; then
        rm -f "$UNIT_PATH"
        say "removed $UNIT_PATH"
    fi
    if [ "$HAVE_SYSTEMD" -eq 1 ]; then
        systemctl daemon-reload
        systemctl reset-failed "$SERVICE" 2>/dev/null || true
    fi
    if [ -e "$BIN_PATH" ]; then
        rm -f "$BIN_PATH"
        say "removed $BIN_PATH"
    fi
    if [ -d "$DOC_DIR" ]; then
        rm -rf "$DOC_DIR"
    fi
    say "uninstalled. Kept (remove by hand if you really want to):"
    say "  data:    $DATA_DIR   (all company data and backups)"
    say "  config:  $CONF_DIR"
    say "  drop-ins: /etc/systemd/system/$SERVICE.d (if any)"
    say "  user:    $SVC_USER   (userdel $SVC_USER)"
    exit 0
fi

# ------------------------------------------------------------- install ----
[ -f "$BINARY" ] || die "binary not found: $BINARY (build it with: cargo build --release --locked)"
[ -x "$BINARY" ] || die "not executable: $BINARY"
[ -f "$SCRIPT_DIR/officebox.service" ] || die "missing $SCRIPT_DIR/officebox.service"
[ -f "$SCRIPT_DIR/officebox.toml.example" ] || die "missing $SCRIPT_DIR/officebox.toml.example"

# Catch a wrong-architecture or broken binary before touching anything.
if ! NEW_VERSION=$("$BINARY" --version 2>&1); then
    die "$BINARY --version failed: $NEW_VERSION"
fi
say "installing $NEW_VERSION"

# --- user ---
if getent passwd "$SVC_USER" >/dev/null 2>&1; then
    say "user $SVC_USER exists"
else
    command -v useradd >/dev/null 2>&1 || die "useradd not found (install the 'passwd' package)"
    NOLOGIN=/usr/sbin/nologin
    [ -x "$NOLOGIN" ] || NOLOGIN=/sbin/nologin
    [ -x "$NOLOGIN" ] || NOLOGIN=/bin/false
    if getent group "$SVC_USER" >/dev/null 2>&1; then
        GROUP_OPT="--gid $SVC_USER"
    else
        GROUP_OPT="--user-group"
    fi
    # GROUP_OPT is intentionally split into option and value.
    # shellcheck disable=SC2086
    useradd --system $GROUP_OPT --home-dir "$DATA_DIR" --no-create-home \
        --shell "$NOLOGIN" --comment "OfficeBox" "$SVC_USER"
    say "created system user $SVC_USER"
fi
SVC_GROUP=$(id -gn "$SVC_USER")

# --- binary (copy next to the target, then rename: safe while it runs) ---
mkdir -p "$PREFIX_BIN"
TMP_BIN=$PREFIX_BIN/.officebox.new.$$
trap 'rm -f "$TMP_BIN"' EXIT
cp "$BINARY" "$TMP_BIN"
chown root:root "$TMP_BIN"
chmod 0755 "$TMP_BIN"
mv -f "$TMP_BIN" "$BIN_PATH"
trap - EXIT
say "installed $BIN_PATH"

# --- data directory (systemd's StateDirectory= would create it too; doing it
#     here lets admins run CLI commands as $SVC_USER before the first start) ---
FRESH=1
[ ! -e "$DATA_DIR/data.redb" ] || FRESH=0
if [ ! -d "$DATA_DIR" ]; then
    mkdir -p "$DATA_DIR"
    say "created $DATA_DIR"
fi
chown "$SVC_USER:$SVC_GROUP" "$DATA_DIR"
chmod 0700 "$DATA_DIR"

# --- configuration (never overwritten) ---
if [ ! -d "$CONF_DIR" ]; then
    mkdir -p "$CONF_DIR"
    chown "root:$SVC_GROUP" "$CONF_DIR"
    chmod 0750 "$CONF_DIR"
fi
if [ -e "$CONF_PATH" ]; then
    say "keeping existing $CONF_PATH"
else
    cp "$SCRIPT_DIR/officebox.toml.example" "$CONF_PATH"
    chown "root:$SVC_GROUP" "$CONF_PATH"
    chmod 0640 "$CONF_PATH"
    say "created $CONF_PATH (all defaults; edit it, then: systemctl restart officebox)"
fi
# The example config is always refreshed, for reference.
cp "$SCRIPT_DIR/officebox.toml.example" "$CONF_DIR/officebox.toml.example"
chmod 0644 "$CONF_DIR/officebox.toml.example"

# --- documentation (optional: only when run from a source tree) ---
if [ -f "$SCRIPT_DIR/../docs/operations.md" ]; then
    mkdir -p "$DOC_DIR"
    cp "$SCRIPT_DIR/../docs/operations.md" "$DOC_DIR/operations.md"
    chmod 0644 "$DOC_DIR/operations.md"
fi

# --- systemd unit ---
mkdir -p "$(dirname "$UNIT_PATH")"
if [ -f "$UNIT_PATH" ] && ! cmp -s "$SCRIPT_DIR/officebox.service" "$UNIT_PATH"; then
    cp "$UNIT_PATH" "$UNIT_PATH.bak"
    say "the installed unit differed; old copy saved as $UNIT_PATH.bak"
    say "(use 'systemctl edit officebox' for local changes instead)"
fi
cp "$SCRIPT_DIR/officebox.service" "$UNIT_PATH"
chown root:root "$UNIT_PATH"
chmod 0644 "$UNIT_PATH"
say "installed $UNIT_PATH"

if [ "$HAVE_SYSTEMD" -eq 0 ]; then
    say "systemd is not running here: service not enabled or started."
    say "start by hand: runuser -u $SVC_USER -- $BIN_PATH serve --data-dir $DATA_DIR --config $CONF_PATH"
    exit 0
fi

systemctl daemon-reload

if [ "$NO_START" -eq 1 ]; then
    say "--no-start: service not enabled, started or restarted. When ready:"
    say "  systemctl enable --now officebox     (first install)"
    say "  systemctl restart officebox          (upgrade: it still runs the old binary)"
    exit 0
fi

if systemctl is-active --quiet "$SERVICE"; then
    say "restarting running $SERVICE (upgrade)"
    systemctl enable "$SERVICE"
    systemctl restart "$SERVICE"
else
    say "enabling and starting $SERVICE"
    systemctl enable --now "$SERVICE"
fi

# ------------------------------------------------------ report the URL ----
# listen: OFFICEBOX_LISTEN in a drop-in is not looked at; the unit passes no
# --listen, so the config file (or the default) decides.
LISTEN=$(sed -n 's/^[[:space:]]*listen[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$CONF_PATH" | tail -n 1)
LISTEN=${LISTEN:-0.0.0.0:8080}
PUBLIC_URL=$(sed -n 's/^[[:space:]]*public_url[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$CONF_PATH" | tail -n 1)
PORT=${LISTEN##*:}
HOST=${LISTEN%:*}
case $HOST in
    0.0.0.0 | '[::]' | '') HOST_LOCAL=127.0.0.1 ;;
    *) HOST_LOCAL=$HOST ;;
esac
LOCAL_URL="http://$HOST_LOCAL:$PORT"

# Wait up to 60 s for /healthz (migrations after an upgrade may take longer;
# then this only warns).
HEALTHY=0
if command -v curl >/dev/null 2>&1; then
    i=0
    while [ "$i" -lt 60 ]; do
        if curl -fsS -o /dev/null --max-time 2 "$LOCAL_URL/healthz" 2>/dev/null; then
            HEALTHY=1
            break
        fi
        if ! systemctl is-active --quiet "$SERVICE"; then
            break
        fi
        i=$((i + 1))
        sleep 1
    done
fi

if ! systemctl is-active --quiet "$SERVICE"; then
    systemctl --no-pager --lines=30 status "$SERVICE" >&2 || true
    die "$SERVICE is not running; see: journalctl -u officebox"
fi
if [ "$HEALTHY" -eq 1 ]; then
    say "$SERVICE is running and healthy."
elif command -v curl >/dev/null 2>&1; then
    say "warning: $SERVICE is running but $LOCAL_URL/healthz did not answer yet;"
    say "         check: journalctl -u officebox -f"
else
    say "$SERVICE is running (curl not installed: health not checked)."
fi

if [ -n "$PUBLIC_URL" ]; then
    say "OfficeBox: $PUBLIC_URL/"
else
    case $HOST in
        0.0.0.0 | '[::]' | '')
            HOST_SHOWN=$(hostname -f 2>/dev/null || hostname 2>/dev/null || echo localhost) ;;
        *) HOST_SHOWN=$HOST ;;
    esac
    say "OfficeBox: http://$HOST_SHOWN:$PORT/"
fi
if [ "$FRESH" -eq 1 ]; then
    say "Open that address to create the enterprise and its first administrator."
fi

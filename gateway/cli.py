"""`lapor-gateway`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys

from pydantic import ValidationError

from config.profile import Profile, ProfileError, load_profile
from config.settings import Settings
from gateway.app import create_app
from gateway.context import GATEWAY
from gateway.server import serve
from gateway.sms.wiring import check_reply_lengths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lapor-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the gateway")
    serve.add_argument("--host", help="overrides LAPOR_HOST")
    serve.add_argument("--port", type=int, help="overrides LAPOR_PORT")
    serve.add_argument("--profile", help="overrides LAPOR_PROFILE (a name or a TOML path)")
    check = commands.add_parser("check-profile", help="validate a profile and exit")
    check.add_argument("profile", help="a shipped profile's name or a TOML path")
    args = parser.parse_args(argv)

    try:
        overrides = {
            k: v
            for k, v in vars(args).items()
            if k in ("host", "port", "profile") and v is not None
        }
        settings = Settings(**overrides)
        profile = load_profile(getattr(args, "profile", None) or settings.profile)
    except ValidationError as exc:
        print(f"lapor-gateway: invalid settings:\n{_settings_problems(exc)}", file=sys.stderr)
        return 2
    except ProfileError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-profile":
        try:
            check_reply_lengths(profile)
        except ValueError as exc:
            print(f"lapor-gateway: {exc}", file=sys.stderr)
            return 2
        print(
            f"{profile.key}: ok ({len(profile.agencies)} agencies, "
            f"{len(profile.categories)} categories)"
        )
        return 0
    return _serve(settings, profile)


def _serve(settings: Settings, profile: Profile) -> int:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # aiosqlite's debug lines print every statement with its parameters: citizens' numbers
    # and words. Our own debug lines never do, so DEBUG stays safe to turn on.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLogger().level))
    try:
        app = create_app(settings, profile)
    except ValueError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    banner = (
        f"LAPOR! gateway ({profile.regency}) on {base}\n"
        f"  formulir warga   {base}/lapor\n"
        f"  meja layanan     {base}/desk\n"
        f"  cek status       {base}/status\n"
        f"  API aplikasi     {base}/api/v1/complaints  (OpenAPI: {base}/api/v1/openapi.json)\n"
        f"  kesehatan        {base}/healthz"
    )
    gateways = app[GATEWAY].sms_gateways
    for name in sorted(gateways.webhooks):
        banner += f"\n  SMS {name:<12} {base}/webhooks/sms/{name}"
    if gateways.gammu is not None:
        banner += "\n  SMS gammu        inbox Gammu SMSD (LAPOR_GAMMU_DATABASE_URL)"
    try:
        asyncio.run(serve(app, settings.host, settings.port, banner))
    except sqlite3.Error as exc:
        print(f"lapor-gateway: cannot open {settings.database_url}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the port is taken, a directory cannot be created, …
        print(f"lapor-gateway: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


def _settings_problems(exc: ValidationError) -> str:
    return "\n".join(
        f"  LAPOR_{'_'.join(str(p) for p in e['loc']).upper()}: "
        f"{e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )


if __name__ == "__main__":
    sys.exit(main())

"""The system libraries WeasyPrint needs to print the PDFs (certificates, PV,
letters): checked by `make run` before anything else, installed with apt when
possible, or named with the exact command to run.

    .venv/bin/python scripts/check_system.py

Checks, each cheap (well under two seconds when all is there):

- Pango and its FreeType backend (libpango-1.0-0, libpangoft2-1.0-0) and
  HarfBuzz's subsetter (libharfbuzz-subset0, which WeasyPrint uses to embed
  only the glyphs a PDF prints) in the dynamic linker's cache;
- the DejaVu fonts the templates name (fonts-dejavu-core), through fontconfig
  (`fc-list`, package fontconfig);
- then a real one-paragraph PDF through WeasyPrint.

When something is missing: as root with apt-get, `apt-get update` then
`apt-get install -y <packages>`, and the checks run again; otherwise the
script prints, in French, the command to run and exits with status 1.
Exit 0 means PDFs can be printed.
"""

import os
import shutil
import subprocess
import sys

PANGO = "libpango-1.0-0"
PANGOFT2 = "libpangoft2-1.0-0"
HARFBUZZ_SUBSET = "libharfbuzz-subset0"
FONTCONFIG = "fontconfig"
FONTS = "fonts-dejavu-core"
# The Debian packages that, together, let WeasyPrint print on a bare machine.
ALL_PACKAGES = [PANGO, PANGOFT2, HARFBUZZ_SUBSET, FONTCONFIG, FONTS]

# Shared library (as the linker cache names it) -> the Debian package holding it.
LIBRARIES = {
    "libpango-1.0.so.0": PANGO,
    "libpangoft2-1.0.so.0": PANGOFT2,
    "libharfbuzz-subset.so.0": HARFBUZZ_SUBSET,
}


def _run(command, timeout=20):
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def linker_cache():
    """`ldconfig -p`'s text ("" when it cannot be read: every library counts
    as missing, and WeasyPrint's own test below decides)."""
    ldconfig = shutil.which("ldconfig") or next(
        (path for path in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.path.exists(path)),
        None,
    )
    return (_run([ldconfig, "-p"]) or "") if ldconfig else ""


def missing_libraries(cache):
    return [package for library, package in LIBRARIES.items() if library not in cache]


def missing_fonts():
    if shutil.which("fc-list") is None:
        return [FONTCONFIG, FONTS]
    listing = _run(["fc-list", ":", "family"]) or ""
    return [] if "DejaVu" in listing else [FONTS]


def weasyprint_error():
    """None when WeasyPrint prints a PDF, else why not (one line)."""
    code = (
        "import weasyprint\n"
        "pdf = weasyprint.HTML(string='<p>x</p>').write_pdf()\n"
        "assert pdf.startswith(b'%PDF')\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as error:
        return str(error)
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"code de sortie {done.returncode}"


def missing_packages():
    """The Debian packages to install, in a stable order; [] when all is well."""
    missing = set(missing_libraries(linker_cache())) | set(missing_fonts())
    if not missing and weasyprint_error() is not None:
        # The libraries are there but WeasyPrint still fails (an unusual
        # layout, a partial install): ask for everything, apt keeps what is there.
        missing = set(ALL_PACKAGES)
    return [package for package in ALL_PACKAGES if package in missing]


def decide(missing, *, is_root, has_apt):
    """ "ok", "install" (as root with apt-get) or "instruct" (print the command)."""
    if not missing:
        return "ok"
    return "install" if is_root and has_apt else "instruct"


def install_command(packages, *, is_root):
    sudo = "" if is_root else "sudo "
    return f"{sudo}apt-get update && {sudo}apt-get install -y {' '.join(packages)}"


def instructions(packages, *, is_root, has_apt):
    lines = [
        "Bibliothèques système manquantes pour produire les PDF (WeasyPrint) : "
        + ", ".join(packages)
        + ".",
    ]
    if has_apt:
        lines.append("Installez-les avec la commande :")
    else:
        lines.append(
            "apt-get est introuvable : sur Debian ou Ubuntu, la commande serait la suivante "
            "(ailleurs, installez Pango, HarfBuzz (subset) et les polices DejaVu, voir "
            "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html) :"
        )
    lines.append("")
    lines.append("    " + install_command(packages, is_root=is_root))
    lines.append("")
    lines.append("puis relancez `make run`.")
    return "\n".join(lines)


def apt_install(packages):
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", *packages],
    ):
        print("+ " + " ".join(command), flush=True)
        if subprocess.run(command, env=env).returncode != 0:
            return False
    return True


def main():
    missing = missing_packages()
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    has_apt = shutil.which("apt-get") is not None
    action = decide(missing, is_root=is_root, has_apt=has_apt)
    if action == "ok":
        return 0
    if action == "install":
        print(
            "Installation des bibliothèques système de WeasyPrint : " + " ".join(missing),
            flush=True,
        )
        if apt_install(missing):
            missing = missing_packages()
            if not missing:
                return 0
    print(instructions(missing, is_root=is_root, has_apt=has_apt), file=sys.stderr)
    if not missing_libraries(linker_cache()) and not missing_fonts():
        print(f"WeasyPrint : {weasyprint_error()}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

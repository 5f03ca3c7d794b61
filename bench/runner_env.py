"""The environment a GitHub-hosted runner gives a step (ubuntu-24.04 image, names as the
runner and the image set them; values of the usual shapes and lengths), which every tool in
bench/run.py starts with. A process's start-up can grow with its environment (std copies
every variable to list them; each `getenv` scans them all), so a benchmark run in a
near-empty environment would flatter whichever tool pays the most per variable.

Left out: what would change what a tool does (GITHUB_ACTIONS, CI, RUNNER_DEBUG, proxies).
The runner's own paths are rooted at `_HOME`, a path relative to the repository (inside the
ignored bench/out) instead of the runner's home directory: the same shapes, no machine's
path. Nothing creates it; a tool that looks there (curl for a .curlrc under
XDG_CONFIG_HOME) finds nothing, as on a runner without one.
"""

import base64
import hashlib

_REPO = "acme/launch-site"
_HOME = "bench/out/runner"
# The runner's work folder, spelled as a self-hosted runner spells it (`_work`).
_RUNS = f"{_HOME}/_work"
_WORK = f"{_RUNS}/{_REPO.split('/')[1]}/{_REPO.split('/')[1]}"
_TOOLS = "/opt/hostedtoolcache"
_FILE = f"{_RUNS}/_temp/_runner_file_commands"


def _token(seed, length):
    """A JWT-shaped string of `length` characters (the runner's tokens are about 1 KB)."""
    out, h = "", seed.encode()
    while len(out) < length:
        h = hashlib.sha256(h).digest()
        out += base64.urlsafe_b64encode(h).decode().rstrip("=")
    return "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + out[:length]


RUNNER = {
    "ACCEPT_EULA": "Y",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": _token("id", 1100),
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://run-actions-1-azure-eastus.actions.githubusercontent.com/42//idtoken/"
                                    "6d2f1c1e-8f0e-4b9a-a1f3-3c4d5e6f7a8b/8c9d0e1f-2a3b-4c5d-6e7f-8a9b0c1d2e3f",
    "ACTIONS_RESULTS_URL": "https://results-receiver.actions.githubusercontent.com/",
    "ACTIONS_RUNTIME_TOKEN": _token("runtime", 1200),
    "ACTIONS_RUNTIME_URL": "https://pipelinesghubeus22.actions.githubusercontent.com/Kx1AbCdEfGh2IjKlMnOpQr3StUvWx/",
    "ACTIONS_CACHE_URL": "https://acghubeus1.actions.githubusercontent.com/Kx1AbCdEfGh2IjKlMnOpQr3StUvWx/",
    "ACTIONS_CACHE_SERVICE_V2": "True",
    "AGENT_TOOLSDIRECTORY": _TOOLS,
    "ANDROID_HOME": "/usr/local/lib/android/sdk",
    "ANDROID_NDK": "/usr/local/lib/android/sdk/ndk/27.2.12479018",
    "ANDROID_NDK_HOME": "/usr/local/lib/android/sdk/ndk/27.2.12479018",
    "ANDROID_NDK_LATEST_HOME": "/usr/local/lib/android/sdk/ndk/28.0.13004108",
    "ANDROID_NDK_ROOT": "/usr/local/lib/android/sdk/ndk/27.2.12479018",
    "ANDROID_SDK_ROOT": "/usr/local/lib/android/sdk",
    "ANT_HOME": "/usr/share/ant",
    "AZURE_EXTENSION_DIR": "/opt/az/azcliextensions",
    "BOOTSTRAP_HASKELL_NONINTERACTIVE": "1",
    "CHROME_BIN": "/usr/bin/google-chrome",
    "CHROMEWEBDRIVER": "/usr/local/share/chromedriver-linux64",
    "CONDA": "/usr/share/miniconda",
    "DEBIAN_FRONTEND": "noninteractive",
    "DEPLOYMENT_BASEPATH": "/opt/runner",
    "DOTNET_MULTILEVEL_LOOKUP": "0",
    "DOTNET_NOLOGO": "1",
    "DOTNET_SKIP_FIRST_TIME_EXPERIENCE": "1",
    "EDGEWEBDRIVER": "/usr/local/share/edge_driver",
    "ENABLE_RUNNER_TRACING": "false",
    "GECKOWEBDRIVER": "/usr/local/share/gecko_driver",
    "GHCUP_INSTALL_BASE_PREFIX": "/usr/local",
    "GITHUB_ACTION": "__posteverywhere-wait_posteverywhere-wait",
    "GITHUB_ACTION_PATH": f"{_RUNS}/_actions/posteverywhere-wait/posteverywhere-wait/v1",
    "GITHUB_ACTION_REF": "v1",
    "GITHUB_ACTION_REPOSITORY": "posteverywhere-wait/posteverywhere-wait",
    "GITHUB_ACTOR": "release-bot",
    "GITHUB_ACTOR_ID": "41898282",
    "GITHUB_API_URL": "https://api.github.com",
    "GITHUB_BASE_REF": "",
    "GITHUB_ENV": f"{_FILE}/set_env_0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "GITHUB_EVENT_NAME": "release",
    "GITHUB_EVENT_PATH": f"{_RUNS}/_temp/_github_workflow/event.json",
    "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
    "GITHUB_HEAD_REF": "",
    "GITHUB_JOB": "announce",
    "GITHUB_OUTPUT": f"{_FILE}/set_output_1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809",
    "GITHUB_PATH": f"{_FILE}/add_path_2b3c4d5e-6f70-8192-a3b4-c5d6e7f8091a",
    "GITHUB_REF": "refs/tags/v2.0.0",
    "GITHUB_REF_NAME": "v2.0.0",
    "GITHUB_REF_PROTECTED": "false",
    "GITHUB_REF_TYPE": "tag",
    "GITHUB_REPOSITORY": _REPO,
    "GITHUB_REPOSITORY_ID": "812345678",
    "GITHUB_REPOSITORY_OWNER": _REPO.split("/")[0],
    "GITHUB_REPOSITORY_OWNER_ID": "98765432",
    "GITHUB_RETENTION_DAYS": "90",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_RUN_ID": "12345678901",
    "GITHUB_RUN_NUMBER": "214",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_SHA": "3f786850e387550fdab836ed7e6dc881de23001b",
    "GITHUB_STATE": f"{_FILE}/save_state_3c4d5e6f-7081-92a3-b4c5-d6e7f8091a2b",
    "GITHUB_STEP_SUMMARY": f"{_FILE}/step_summary_4d5e6f70-8192-a3b4-c5d6-e7f8091a2b3c",
    "GITHUB_TRIGGERING_ACTOR": "release-bot",
    "GITHUB_WORKFLOW": "Release",
    "GITHUB_WORKFLOW_REF": f"{_REPO}/.github/workflows/release.yml@refs/tags/v2.0.0",
    "GITHUB_WORKFLOW_SHA": "3f786850e387550fdab836ed7e6dc881de23001b",
    "GITHUB_WORKSPACE": _WORK,
    "GOROOT_1_22_X64": f"{_TOOLS}/go/1.22.12/x64",
    "GOROOT_1_23_X64": f"{_TOOLS}/go/1.23.8/x64",
    "GOROOT_1_24_X64": f"{_TOOLS}/go/1.24.2/x64",
    "GRADLE_HOME": "/usr/share/gradle-8.14",
    "HOMEBREW_CLEANUP_PERIODIC_FULL_DAYS": "3650",
    "HOMEBREW_NO_AUTO_UPDATE": "1",
    "ImageOS": "ubuntu24",
    "ImageVersion": "20250427.1.0",
    "INVOCATION_ID": "5f4e3d2c1b0a49588776655443322110",
    "JAVA_HOME": "/usr/lib/jvm/temurin-17-jdk-amd64",
    "JAVA_HOME_8_X64": "/usr/lib/jvm/temurin-8-jdk-amd64",
    "JAVA_HOME_11_X64": "/usr/lib/jvm/temurin-11-jdk-amd64",
    "JAVA_HOME_17_X64": "/usr/lib/jvm/temurin-17-jdk-amd64",
    "JAVA_HOME_21_X64": "/usr/lib/jvm/temurin-21-jdk-amd64",
    "JOURNAL_STREAM": "8:17211",
    "LANG": "C.UTF-8",
    "LEIN_HOME": "/usr/local/lib/lein",
    "LEIN_JAR": "/usr/local/lib/lein/self-installs/leiningen-2.11.2-standalone.jar",
    "NVM_DIR": f"{_HOME}/.nvm",
    "PIPX_BIN_DIR": "/opt/pipx_bin",
    "PIPX_HOME": "/opt/pipx",
    "POWERSHELL_DISTRIBUTION_CHANNEL": "GitHub-Actions-ubuntu24",
    "RUNNER_ARCH": "X64",
    "RUNNER_ENVIRONMENT": "github-hosted",
    "RUNNER_NAME": "GitHub Actions 1000012345",
    "RUNNER_OS": "Linux",
    "RUNNER_PERFLOG": f"{_HOME}/perflog",
    "RUNNER_TEMP": f"{_RUNS}/_temp",
    "RUNNER_TOOL_CACHE": _TOOLS,
    "RUNNER_TRACKING_ID": "github_6a7b8c9d-0e1f-2a3b-4c5d-6e7f8a9b0c1d",
    "RUNNER_WORKSPACE": f"{_RUNS}/launch-site",
    "SELENIUM_JAR_PATH": "/usr/share/java/selenium-server.jar",
    "SGX_AESM_ADDR": "1",
    "SHELL": "/bin/bash",
    "SHLVL": "1",
    "STATS_BLT": "true",
    "STATS_D": "true",
    "STATS_EXT": "true",
    "STATS_RDCL": "true",
    "STATS_TRP": "true",
    "STATS_V3PS": "true",
    "STATS_VMD": "true",
    "STATS_VMFE": "true",
    "SWIFT_PATH": "/usr/share/swift/usr/bin",
    "SYSTEMD_EXEC_PID": "1784",
    "USER": "runner",
    "VCPKG_INSTALLATION_ROOT": "/usr/local/share/vcpkg",
    "XDG_CONFIG_HOME": f"{_HOME}/.config",
    "XDG_RUNTIME_DIR": "/run/user/1001",
    "_": "/usr/bin/posteverywhere-wait",
}

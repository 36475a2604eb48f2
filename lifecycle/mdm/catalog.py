"""The catalog of protocol facts (F1-F91), ambiguity decisions (A1-A19) and real-world
interleavings (real-world 3.1-3.23) the model cites: one line each, its source, and its class.
Why a module and not a page: docs/facts.md is generated from it together with the
citations in the code, so every id the CLI, the report and the docs print resolves.

Statements are paraphrases of spec/facts.md (section 1 facts, section 3 ambiguities) and
spec/real-world.md (section 3 interleavings); the documents themselves hold the quotes.
A fact's class says how the model uses it: "behavioural" facts constrain what a party does
or in which order, "wire" facts fix message structure and codes, "informational" facts are
recorded but not represented (their `reason` says why).
"""

from __future__ import annotations

from typing import NamedTuple

#: The classes a fact can have; ambiguities are "decision", interleavings "interleaving".
FACT_KINDS: tuple[str, ...] = ("behavioural", "wire", "informational")


class Entry(NamedTuple):
    """One catalog line: an id, what it says, where it comes from, and its class."""

    id: str  # "F14", "A10", "real-world 3.8"
    statement: str  # one line in the catalog's own words, at most 160 characters
    source: str  # source key(s) with a short document name and section, or a bug/PR/product
    kind: str  # "behavioural" | "wire" | "informational" | "decision" | "interleaving"
    reason: str = ""  # informational facts only: why the model does not represent it


#: Source keys of spec/facts.md: a short name of each document and where it lives.
SOURCES: dict[str, str] = {
    "S0": (
        "Chinese machine translation of S1b, the seed: seed/unenrollment-doc-zh.md (shared folder)"
    ),
    "S1": (
        "Disconnecting from MDM (unenrollment), 2024: MicrosoftDocs/windows-itpro-docs, "
        "windows/client-management/disconnecting-from-mdm-unenrollment.md @baa3496"
    ),
    "S1b": (
        "Disconnecting from MDM (unenrollment), 2017 text: windows-itpro-docs, "
        "windows/client-management/mdm/disconnecting-from-mdm-unenrollment.md @6db071f"
    ),
    "S2": (
        "DMClient CSP reference, 2023 (generated): windows-itpro-docs, "
        "windows/client-management/mdm/dmclient-csp.md @009729d"
    ),
    "S2b": "DMClient CSP, hand-written 2017 revision of dmclient-csp.md (windows-itpro-docs)",
    "S3": (
        "[MS-MDM] Mobile Device Management Protocol v15.0 (2024), Open Specification; copy "
        "in awakecoding/openspecs skills/windows-protocols/MS-MDM/MS-MDM.md @8cdf89c"
    ),
    "S4": (
        "[MS-MDE2] Mobile Device Enrollment Protocol v2 v18.0 (2026), Open Specification; "
        "awakecoding/openspecs skills/windows-protocols/MS-MDE2/MS-MDE2.md (2.2.9.3 "
        "DMClient)"
    ),
    "S5": (
        "OMA DM Protocol 1.2.1 (OMA-TS-DM_Protocol-V1_2_1-20080617-A), bilingual copy in "
        "MarcoRosso/OMA-DM.Documents @08d4031 (packages, multiple messages, alert codes)"
    ),
    "S6": (
        "OMA DM protocol support: windows-itpro-docs, "
        "windows/client-management/oma-dm-protocol-support.md @00af39a"
    ),
    "S7": (
        "Push notification support for device management: windows-itpro-docs, "
        "windows/client-management/push-notification-windows-mdm.md @0888ed6"
    ),
    "S8": (
        "Server requirements for Windows MDM: windows-itpro-docs, "
        "windows/client-management/server-requirements-windows-mdm.md @0888ed6"
    ),
    "S9": (
        "Azure AD integration with MDM: windows-itpro-docs, "
        "windows/client-management/azure-active-directory-integration-with-mdm.md @00af39a"
    ),
    "S10": (
        "MDM enrollment of Windows devices: windows-itpro-docs, "
        "windows/client-management/mdm-enrollment-of-windows-devices.md @10d2daf"
    ),
    "S11": (
        "What's new in MDM enrollment and management (known issues, FAQ): "
        "windows-itpro-docs, "
        "windows/client-management/new-in-windows-mdm-enrollment-management.md @0b74c27"
    ),
    "S12": (
        "Enterprise app management: windows-itpro-docs, "
        "windows/client-management/enterprise-app-management.md @00af39a"
    ),
    "S13": (
        "Policy CSP Experience (AllowManualMDMUnenrollment): windows-itpro-docs, "
        "windows/client-management/mdm/policy-csp-experience.md @eeb2e02"
    ),
    "S14": (
        "RemoteWipe CSP: windows-itpro-docs, windows/client-management/mdm/remotewipe-csp.md "
        "@03a3df9"
    ),
    "S15": (
        "Certificate renewal for Windows MDM: windows-itpro-docs, "
        "windows/client-management/certificate-renewal-windows-mdm.md @0888ed6"
    ),
    "S16": (
        "MDM enrollment error codes: windows-itpro-docs, "
        "windows/client-management/includes/mdm-enrollment-error-codes.md @6b58190"
    ),
    "S17": (
        "Vendor field reports: GitHub issues MicrosoftDocs/windows-itpro-docs #8376 "
        "(2020-09-28) and #8849 (2020-12-21)"
    ),
    "S18": (
        "Windows event message strings (10586, 14393): libyal/winevt-kb, "
        "docs/sources/message-files/MessageFile-dmenterprisediagnostics.dll.md"
    ),
    "S19": (
        "Intune remote actions, wipe and retire (vendor behaviour): MicrosoftDocs/memdocs, "
        "memdocs/intune/remote-actions/devices-wipe.md @0021559"
    ),
    "S20": (
        "Local API entry points on learn.microsoft.com: UnregisterDeviceWithManagement "
        "(mdmregistration.h) and MDM_Client.SendUnenrollRequest (WMI)"
    ),
}

#: Section 1 of spec/facts.md, in order.
FACTS: dict[str, Entry] = {
    "F1": Entry(
        "F1",
        (
            "Unenrollment starts either locally, by the user from the Settings place that created "
            "the work account, or remotely, by the admin through the server."
        ),
        "S1 (Disconnecting from MDM, 2024), intro and cleanup list; S1b (2017 text)",
        "behavioural",
    ),
    "F2": Entry(
        "F2",
        (
            "The device notifies the server of a user unenroll once the user has confirmed "
            "removal and before the account is actually deleted."
        ),
        "S1 (Disconnecting from MDM, 2024), user-initiated section",
        "behavioural",
    ),
    "F3": Entry(
        "F3",
        ("The user-unenroll notification is best effort: it goes out once and nothing retries it."),
        "S1 (Disconnecting from MDM, 2024), user-initiated section",
        "behavioural",
    ),
    "F4": Entry(
        "F4",
        (
            "The notice is a 1226 Generic Alert; it leaves once the device has accepted the "
            "unenroll and ahead of any enterprise data deletion."
        ),
        "S1 (Disconnecting from MDM, 2024), user-initiated section",
        "behavioural",
    ),
    "F5": Entry(
        "F5",
        (
            "A device-initiated unenroll alert is identified by the Meta Type "
            "com.microsoft:mdm.unenrollment.userrequest."
        ),
        "S1 (Disconnecting from MDM, 2024), user-initiated section",
        "wire",
    ),
    "F6": Entry(
        "F6",
        (
            "On a user unenroll the device first ends every active DM session, then opens a fresh "
            "one whose first package holds the alert."
        ),
        "S1 (Disconnecting from MDM, 2024), user-initiated section",
        "behavioural",
    ),
    "F7": Entry(
        "F7",
        (
            "Cleanup begins as soon as that first package has gone out; no server reply is a "
            "precondition for deleting anything."
        ),
        "S1 (Disconnecting from MDM, 2024), user-initiated section",
        "behavioural",
    ),
    "F8": Entry(
        "F8",
        (
            "A user disassociation reaches the server only best effort; an admin one is reported "
            "as successfully started."
        ),
        "S1 (Disconnecting from MDM, 2024), intro and cleanup list",
        "behavioural",
    ),
    "F9": Entry(
        "F9",
        (
            "Field traffic puts the unenroll alert in a normal Package 1: Alert 1201, 1224 "
            "LoginStatus, 1226 (CmdIDs 2-4), then DevInfo."
        ),
        "S17 (windows-itpro-docs issues #8376, #8849), #8376 log",
        "wire",
    ),
    "F10": Entry(
        "F10",
        (
            "Windows 1803-2004 sent the unenroll 1226 with an empty Meta, so without a Type; "
            "Microsoft gave no technical answer."
        ),
        "S17 (windows-itpro-docs issues #8376, #8849)",
        "behavioural",
    ),
    "F11": Entry(
        "F11",
        (
            "Windows logs one event per unenroll step: user start, alert sent, alert send error, "
            "and on 14393 the account deletion outcome."
        ),
        "S18 (winevt-kb, DMEnterpriseDiagnostics event strings)",
        "behavioural",
    ),
    "F12": Entry(
        "F12",
        (
            "Local APIs also unenroll: UnregisterDeviceWithManagement (elevated caller) and WMI "
            "MDM_Client.SendUnenrollRequest; their alert is undocumented."
        ),
        "S20 (UnregisterDeviceWithManagement and MDM_Client.SendUnenrollRequest)",
        "behavioural",
    ),
    "F13": Entry(
        "F13",
        (
            "With NumberOfDaysAfterLostContactToUnenroll set, a device that has not synced for N "
            "days unenrolls on its own; no alert can be assumed."
        ),
        "S2 (DMClient CSP reference), Provider node",
        "behavioural",
    ),
    "F14": Entry(
        "F14",
        (
            "A server-initiated disconnect aborts every ongoing session of that enrollment at "
            "once, so that nothing deadlocks."
        ),
        "S1 (Disconnecting from MDM, 2024), server-initiated section",
        "behavioural",
    ),
    "F15": Entry(
        "F15",
        (
            "The server gets no response to its unenroll; the device sends a generic alert with "
            "messageid=1 instead (the S0 translation reverses this)."
        ),
        "S1 (Disconnecting from MDM, 2024), server-initiated section; S1b; S0 (seed MT)",
        "behavioural",
    ),
    "F16": Entry(
        "F16",
        (
            "The documented server-path alert is 1226 with CmdID 4, Format int, Data 1 and the "
            "same userrequest Type as the user path."
        ),
        "S1 (Disconnecting from MDM, 2024), server-initiated section",
        "wire",
    ),
    "F17": Entry(
        "F17",
        (
            "The enrollment client carries out an admin-requested disconnect in its next regular "
            "maintenance session."
        ),
        "S1 (Disconnecting from MDM, 2024), intro and cleanup list",
        "behavioural",
    ),
    "F18": Entry(
        "F18",
        (
            "Admins disconnect a device when its user leaves the company or it keeps failing the "
            "security policy."
        ),
        "S1 (Disconnecting from MDM, 2024), intro and cleanup list",
        "informational",
        (
            "Why an admin unenrolls does not change the protocol; the model has one admin "
            "unenroll action."
        ),
    ),
    "F19": Entry(
        "F19",
        "Windows logs a separate event when the server started the unenroll.",
        "S18 (winevt-kb, DMEnterpriseDiagnostics event strings)",
        "informational",
        "Diagnostics only; no state or message depends on it.",
    ),
    "F20": Entry(
        "F20",
        (
            "A server unenroll of an enrollment made by adding a work account fails silently: "
            "account, policies and resources stay, syncing goes on."
        ),
        "S11 (What's new in MDM enrollment: known issues, FAQ), known issues",
        "behavioural",
    ),
    "F21": Entry(
        "F21",
        (
            "Remote unenroll is disabled for AAD-joined mobile devices and sends an error back to "
            "the server; which status code is not documented."
        ),
        "S11 (What's new in MDM enrollment: known issues, FAQ), known issues",
        "behavioural",
    ),
    "F22": Entry(
        "F22",
        (
            "Intune Retire remains pending until the next check-in of the device, usually under "
            "15 minutes for a powered, online device."
        ),
        "S19 (Intune docs, wipe and retire devices; vendor)",
        "behavioural",
    ),
    "F23": Entry(
        "F23",
        (
            "To disconnect a device the server issues an Exec on the DMClient CSP's Unenroll node "
            "in the next session the client opens."
        ),
        "S1 (Disconnecting from MDM, 2024), IT admin-requested section",
        "behavioural",
    ),
    "F24": Entry(
        "F24",
        "The Exec's Data should hold the ProviderID provisioned for the DM server.",
        "S1 (Disconnecting from MDM, 2024), IT admin-requested section",
        "wire",
    ),
    "F25": Entry(
        "F25",
        (
            "Current node ./Device/Vendor/MSFT/DMClient/Provider/{ProviderID}/Unenroll (examples "
            "omit ./Device): Exec and Get, Format null, 1507+."
        ),
        "S2 (DMClient CSP reference), Provider/{ProviderID}/Unenroll",
        "wire",
    ),
    "F26": Entry(
        "F26",
        (
            "The legacy node ./Vendor/MSFT/DMClient/Unenroll is kept for backward compatibility, "
            "with a ./Device variant of permanent scope."
        ),
        "S2 (DMClient CSP reference); S2b; S4 ([MS-MDE2] v18.0) 2.2.9.3",
        "wire",
    ),
    "F27": Entry(
        "F27",
        (
            "An Exec on the Unenroll node makes the enrollment client unenroll from the server "
            "whose provider id the Data names."
        ),
        "S2 (DMClient CSP reference); S4 ([MS-MDE2] v18.0) 2.2.9.3",
        "behavioural",
    ),
    "F28": Entry(
        "F28",
        (
            "The CSP example sends Data TestMDMServer and notes that since Threshold (1507) the "
            "Data field is ignored."
        ),
        "S2 (DMClient CSP reference); S2b; S4 ([MS-MDE2] v18.0) 2.2.9.3",
        "wire",
    ),
    "F29": Entry(
        "F29",
        (
            "The Unenroll Exec rides in the ordinary server packages (2 or 4) of a client-opened "
            "session."
        ),
        "S2 (DMClient CSP reference) (should); S4 ([MS-MDE2] v18.0) (can)",
        "behavioural",
    ),
    "F30": Entry(
        "F30",
        (
            "Once disconnection completes the user is told the device has left enterprise "
            "management."
        ),
        "S1 (Disconnecting from MDM, 2024), IT admin-requested section",
        "informational",
        "A user-interface notice; it changes no lifecycle state and no message.",
    ),
    "F31": Entry(
        "F31",
        (
            "AllowManualMDMUnenrollment=0 stops the user disconnecting, but the server can always "
            "unenroll remotely; policy-locked enrollments need that path."
        ),
        (
            "S13 (Policy CSP Experience, AllowManualMDMUnenrollment); S10 (MDM enrollment of "
            "Windows devices)"
        ),
        "behavioural",
    ),
    "F32": Entry(
        "F32",
        (
            "LinkedEnrollment/Unenroll is a separate Exec that silently removes only the "
            "side-by-side Declared Configuration enrollment."
        ),
        "S4 ([MS-MDE2] v18.0) 2.2.9.3",
        "informational",
        "Declared Configuration enrollments are out of scope; the model has one MDM enrollment.",
    ),
    "F33": Entry(
        "F33",
        (
            "Cleanup removes the enterprise app token for LOB apps, together with the business "
            "apps that depend on it."
        ),
        "S1 (Disconnecting from MDM, 2024), intro and cleanup list",
        "behavioural",
    ),
    "F34": Entry(
        "F34",
        "Cleanup deletes every certificate the MDM server put on the device.",
        "S1 (Disconnecting from MDM, 2024), intro and cleanup list",
        "behavioural",
    ),
    "F35": Entry(
        "F35",
        "Cleanup stops enforcing the policies that the management infrastructure applied.",
        "S1 (Disconnecting from MDM, 2024), intro and cleanup list",
        "behavioural",
    ),
    "F36": Entry(
        "F36",
        (
            "Cleanup deletes the DM client's configuration and other server-added settings, the "
            "maintenance task too; the client then stays dormant."
        ),
        "S1 (Disconnecting from MDM, 2024), intro and cleanup list",
        "behavioural",
    ),
    "F37": Entry(
        "F37",
        (
            "Unenrolling deletes the MDM server cert chain that EnhancedAppLayerSecurity had "
            "installed."
        ),
        "S3 ([MS-MDM] v15.0) 2.1 note 6",
        "behavioural",
    ),
    "F38": Entry(
        "F38",
        (
            "An app is only removed at unenrollment if the server had Added its "
            "AppInstallation/{PackageFamilyName} node."
        ),
        "S12 (Enterprise app management)",
        "informational",
        "A provisioning detail of app delivery; the model's cleanup removes every managed app.",
    ),
    "F39": Entry(
        "F39",
        "Apps installed through WMI classes survive removal of the MDM account.",
        "S11 (What's new in MDM enrollment: known issues, FAQ), FAQ",
        "informational",
        "Leftover local apps affect neither enrollment state nor messages.",
    ),
    "F40": Entry(
        "F40",
        (
            "Deleting the DMClient Push node ends push-triggered sessions; unenroll removes it, "
            "so an unanswered push hints the device has unenrolled."
        ),
        "S4 ([MS-MDE2] v18.0); S2 (DMClient CSP reference)",
        "behavioural",
    ),
    "F41": Entry(
        "F41",
        (
            "On build 14393 the unenroll switches dmwappushservice to demand start, per the "
            "logged events."
        ),
        "S18 (winevt-kb, DMEnterpriseDiagnostics event strings)",
        "informational",
        "A start-mode detail of one build; the loss of push itself is modelled through F40.",
    ),
    "F42": Entry(
        "F42",
        (
            "Intune Retire removes apps, sideloading keys, Wi-Fi, VPN, certificates and the AAD "
            "record, but not IME Win32 or Microsoft 365 apps."
        ),
        "S19 (Intune docs, wipe and retire devices; vendor)",
        "informational",
        ("Vendor-specific cleanup scope; the model's cleanup follows the protocol docs (F33-F37)."),
    ),
    "F43": Entry(
        "F43",
        (
            "An AAD enrollment (join or work account) shows in Work Access with Disconnect greyed "
            "out; the user removes it by dropping the AAD link."
        ),
        "S1 (Disconnecting from MDM, 2024), Work Access settings section",
        "behavioural",
    ),
    "F44": Entry(
        "F44",
        (
            "Work Access can only unenroll enrollments that came from bulk enrollment or were "
            "made on the Work Access page."
        ),
        "S1 (Disconnecting from MDM, 2024), Work Access settings section",
        "behavioural",
    ),
    "F45": Entry(
        "F45",
        (
            "When management hangs off the Azure AD or work account, the user cannot remove the "
            "enrollment from the work or school settings UI."
        ),
        "S9 (Azure AD integration with MDM)",
        "behavioural",
    ),
    "F46": Entry(
        "F46",
        (
            "Every work connection offers Disconnect except policy-locked devices and AAD on "
            "mobile, where only a wipe removes it."
        ),
        "S10 (MDM enrollment of Windows devices)",
        "behavioural",
    ),
    "F47": Entry(
        "F47",
        (
            "AllowManualMDMUnenrollment: 1 (default) lets the user delete the work account, 0 "
            "forbids it; Entra-joined auto-enrolled devices ignore it."
        ),
        "S13 (Policy CSP Experience, AllowManualMDMUnenrollment)",
        "behavioural",
    ),
    "F48": Entry(
        "F48",
        "From the Settings Info page the user can trigger a sync session at will.",
        "S10 (MDM enrollment of Windows devices)",
        "behavioural",
    ),
    "F49": Entry(
        "F49",
        (
            "Disconnecting an AADJ-enrolled device gives no warning that WIP-protected data will "
            "be lost."
        ),
        (
            "S1 (Disconnecting from MDM, 2024), Azure AD Join section; S9 (Azure AD integration "
            "with MDM)"
        ),
        "informational",
        "A wording gap in the UI; WIP data is not part of the model's state.",
    ),
    "F50": Entry(
        "F50",
        (
            "A remote unenroll of an AADJ device also removes its AAD association, as a "
            "safeguard, and can leave the device needing a reimage."
        ),
        "S1 (Disconnecting from MDM, 2024), Azure AD Join section",
        "behavioural",
    ),
    "F51": Entry(
        "F51",
        (
            "Before a remote unenroll, some local admin must exist outside the tenant, or the "
            "device ends up without any admin user."
        ),
        "S1 (Disconnecting from MDM, 2024), Azure AD Join section",
        "behavioural",
    ),
    "F52": Entry(
        "F52",
        (
            "On mobile a remote unenroll of an AADJ device fails; a RemoteWipe doWipe Exec is "
            "advised (doAutomaticRedeployment keeps the enrollment)."
        ),
        "S1 (Disconnecting from MDM, 2024), Azure AD Join section; S14 (RemoteWipe CSP)",
        "behavioural",
    ),
    "F53": Entry(
        "F53",
        (
            "Under AADJ multi-user management every session sends a user's AAD token in a header; "
            "a first session lacking it should get device policy only."
        ),
        "S9 (Azure AD integration with MDM)",
        "behavioural",
        "Per-user tokens are not modelled; the first session gets the device policy only.",
    ),
    "F54": Entry(
        "F54",
        (
            "Intune note: retiring a device AAD-joined during OOBE removes all Azure AD accounts "
            "on it."
        ),
        "S19 (Intune docs, wipe and retire devices; vendor)",
        "informational",
        "Vendor behaviour already covered by the AAD unjoin side effect of F50.",
    ),
    "F55": Entry(
        "F55",
        (
            "The server cannot know how an unenroll ended; it can watch for the scheduled "
            "callback or push and await a session, after some unstated delay."
        ),
        "S1 (Disconnecting from MDM, 2024), user-initiated section",
        "behavioural",
    ),
    "F56": Entry(
        "F56",
        (
            "Each DM session runs a setup phase (trigger, client info, credentials), then a "
            "server-driven management phase ending when commands stop."
        ),
        "S3 ([MS-MDM] v15.0) 1.3; S6 (OMA DM protocol support)",
        "behavioural",
    ),
    "F57": Entry(
        "F57",
        (
            "Only the client initiates, by HTTP POST; server commands travel solely inside the "
            "HTTP responses."
        ),
        "S3 ([MS-MDM] v15.0) 3",
        "behavioural",
    ),
    "F58": Entry(
        "F58",
        (
            "A session must open with Package 1, the OMA DM section 8.3 initialization from "
            "client to server."
        ),
        "S3 ([MS-MDM] v15.0) 3",
        "wire",
    ),
    "F59": Entry(
        "F59",
        (
            "The UserAgentOrigin header (app version 4.0+) codes the trigger 1-7: user, schedule, "
            "WNS push, login, post-enrollment, CSP, public API."
        ),
        "S3 ([MS-MDM] v15.0) 3.1.7.2",
        "wire",
    ),
    "F60": Entry(
        "F60",
        (
            "The session URL's mode query is Maintenance when a user is logged in and Machine "
            "when running as System."
        ),
        "S3 ([MS-MDM] v15.0) 2.1 note 1",
        "wire",
    ),
    "F61": Entry(
        "F61",
        (
            "Push: after authenticating to WNS the server posts a raw notification to the "
            "ChannelURI, prompting the device to open a session; polling is still needed."
        ),
        "S3 ([MS-MDM] v15.0) 3.1.4; S7 (Push notification support for MDM)",
        "behavioural",
    ),
    "F62": Entry(
        "F62",
        (
            "A ChannelURI lives 30 days and is renewed after 15 with a session; WNS can cache and "
            "expire pushes."
        ),
        (
            "S7 (Push notification support for MDM); S11 (What's new in MDM enrollment: known "
            "issues, FAQ)"
        ),
        "informational",
        "Renewal and WNS caching sit below the model's push, which either arrives or is lost.",
    ),
    "F63": Entry(
        "F63",
        (
            "Push/Status is an enum of push health; 7 means a push arrived but power or "
            "connectivity prevented a session."
        ),
        "S4 ([MS-MDE2] v18.0); S2b",
        "informational",
        "A value the server may read; the model shows the outcome as a lost push.",
    ),
    "F64": Entry(
        "F64",
        (
            "Polling runs on three Poll schedules: first retry 15 min by default, later retries "
            "at least 1440 min; a 24 h schedule is added if none is infinite."
        ),
        "S4 ([MS-MDE2] v18.0); S2 (DMClient CSP reference), Poll node",
        "behavioural",
    ),
    "F65": Entry(
        "F65",
        (
            "Package 1 has SessionID (the trigger's when answering 1200, else unique), MsgID, "
            "server Target, device Source, 1200/1201, DevInfo, Final."
        ),
        "S5 (OMA DM Protocol 1.2.1) 8.3",
        "wire",
    ),
    "F66": Entry(
        "F66",
        (
            "Server packages 2 and 4 give Status for the SyncHdr and each client Alert; one with "
            "only Final ends the session; 1223 may force it shut."
        ),
        "S5 (OMA DM Protocol 1.2.1) 8.4, 8.6",
        "behavioural",
    ),
    "F67": Entry(
        "F67",
        (
            "Package 3 returns Status for each server command and Results for good Gets; a "
            "command needing an answer loops back to Package 3."
        ),
        "S5 (OMA DM Protocol 1.2.1) 8.5-8.6",
        "behavioural",
    ),
    "F68": Entry(
        "F68",
        (
            "If a server package has no commands the client sends nothing more and the session "
            "ends; the server must answer every client package."
        ),
        "S5 (OMA DM Protocol 1.2.1) 8 intro; S3 ([MS-MDM] v15.0) 2.2.6.1",
        "behavioural",
    ),
    "F69": Entry(
        "F69",
        (
            "OMA DM sets no timeouts between packages; both sides must cope with aborts that are "
            "never signalled."
        ),
        "S5 (OMA DM Protocol 1.2.1) 8, 8.1",
        "behavioural",
    ),
    "F70": Entry(
        "F70",
        (
            "Alert 1223 aborts a session and needs Final; a server replies with Status only, a "
            "client stays silent, and replies to an abort count for nothing."
        ),
        "S5 (OMA DM Protocol 1.2.1) 8.1",
        "behavioural",
    ),
    "F71": Entry(
        "F71",
        (
            "MsgID is numeric, 1 for a session's first message, rising and unique per side; "
            "Status and Results point back with MsgRef and CmdRef."
        ),
        "S3 ([MS-MDM] v15.0) 2.2.3.6; S6 (OMA DM protocol support)",
        "wire",
    ),
    "F72": Entry(
        "F72",
        (
            "SessionID, in every message, is opaque and up to 4 bytes long, unique per initiator; "
            "S6 says decimal unless app version 2.0."
        ),
        "S3 ([MS-MDM] v15.0) 2.2.3.8; S6 (OMA DM protocol support)",
        "wire",
    ),
    "F73": Entry(
        "F73",
        (
            "CmdID is unique in its message and never 0; the SyncHdr Status comes first and "
            "Statuses follow command order."
        ),
        "S3 ([MS-MDM] v15.0) 2.2.3.2, 2.2.6.1",
        "wire",
    ),
    "F74": Entry(
        "F74",
        (
            "Final closes a package; the client may not Final before the server closed its "
            "previous one, and meanwhile gets 1222 Next Message replies."
        ),
        "S3 ([MS-MDM] v15.0) 2.2.3.4; S5 (OMA DM Protocol 1.2.1) 6",
        "wire",
    ),
    "F75": Entry(
        "F75",
        ("The server holds back further commands until Status for its earlier ones has come back."),
        "S5 (OMA DM Protocol 1.2.1) 6",
        "behavioural",
    ),
    "F76": Entry(
        "F76",
        (
            "A 1226 flows client to server only, after 1200/1201; the server must Status each "
            "Item: 200/202, else an error, 415 for an unknown Type."
        ),
        "S5 (OMA DM Protocol 1.2.1) 8.7",
        "behavioural",
    ),
    "F77": Entry(
        "F77",
        (
            "A session opened for fatal or critical generic alerts sends an MDM-GenericAlert "
            "header naming their Types; the unenroll alert has no Mark."
        ),
        "S3 ([MS-MDM] v15.0) 2.1 note 5",
        "wire",
    ),
    "F78": Entry(
        "F78",
        (
            "Windows alert codes: 1200, 1201, 1222, 1223, 1224 for client events, and 1226 for a "
            "user unenroll or a CSP's asynchronous result."
        ),
        "S3 ([MS-MDM] v15.0) 2.2.7.2; S6 (OMA DM protocol support)",
        "wire",
    ),
    "F79": Entry(
        "F79",
        (
            "With EnableOmaDmKeepAliveMessage a slow client sends 1224 requestpending heartbeats "
            "to keep the HTTP exchange open."
        ),
        "S2b",
        "informational",
        "Keepalives only stretch one HTTP exchange; the model has no HTTP timeouts.",
    ),
    "F80": Entry(
        "F80",
        (
            "A client answered with HTTP 429 should hold off for Retry-After before resending; "
            "Windows 10 2004 and older did not."
        ),
        "S3 ([MS-MDM] v15.0) 3.1.2, 3.1.6",
        "informational",
        "Throttling is not modelled; a package the server refuses counts as lost.",
    ),
    "F81": Entry(
        "F81",
        (
            "Status codes Windows uses: 200, 202, 212, 214 (session cancelled), 215, 216, 400-425 "
            "and 500, 507, 516."
        ),
        "S6 (OMA DM protocol support)",
        "wire",
    ),
    "F82": Entry(
        "F82",
        (
            "Every session gives the device a fresh server MD5 nonce for the following one, "
            "echoed in Status, so a torn-down session can desynchronise auth."
        ),
        "S8 (Server requirements for Windows MDM); S3 ([MS-MDM] v15.0) 1.3.1",
        "behavioural",
    ),
    "F83": Entry(
        "F83",
        "A Status of 212 to a server Cred means the session needs no further authentication.",
        "S6 (OMA DM protocol support)",
        "wire",
    ),
    "F84": Entry(
        "F84",
        (
            "After unenrollment the client is dormant until the user reconnects: a fresh MS-MDE2 "
            "enrollment (discovery, token, policies, certificate)."
        ),
        "S1 (Disconnecting from MDM, 2024), intro and cleanup list; S4 ([MS-MDE2] v18.0) 1.3",
        "behavioural",
    ),
    "F85": Entry(
        "F85",
        (
            "One MDM server per device: a second enrollment fails already-enrolled (0x8018000A), "
            "a parallel one in-progress (0x80180009)."
        ),
        (
            "S11 (What's new in MDM enrollment: known issues, FAQ), FAQ; S16 (MDM enrollment "
            "error codes)"
        ),
        "behavioural",
    ),
    "F86": Entry(
        "F86",
        (
            "Joining Azure AD where the tenant has an MDM endpoint requires unenrolling from any "
            "existing MDM first."
        ),
        "S10 (MDM enrollment of Windows devices)",
        "behavioural",
    ),
    "F87": Entry(
        "F87",
        (
            "Enrollment faults include DeviceCapReached (0x80180013, remove old devices) and "
            "NotEligibleToRenew (0x80180016, enroll again)."
        ),
        "S4 ([MS-MDE2] v18.0); S16 (MDM enrollment error codes)",
        "behavioural",
    ),
    "F88": Entry(
        "F88",
        (
            "An expired MDM certificate never auto-renews, EntDMID must be set first, and "
            "recovery needs AllowRecovery or InitiateRecovery."
        ),
        "S15 (Certificate renewal for Windows MDM); S4 ([MS-MDE2] v18.0) 3.6",
        "informational",
        "Certificate renewal is a lifecycle of its own; the model's credential never expires.",
    ),
    "F89": Entry(
        "F89",
        (
            "Servers can read state-like CSP values (EnrollStatus, FirstSyncStatus), but no enum "
            "of enrollment states is published."
        ),
        "S4 ([MS-MDE2] v18.0); S2b",
        "informational",
        "Enum values a server may poll; the model keeps its own enrollment states.",
    ),
    "F90": Entry(
        "F90",
        (
            "After a push-button reset the OMA DM registry survives but the task schedules are "
            "gone: enrolled, never syncing, looking unenrolled to the server."
        ),
        "S11 (What's new in MDM enrollment: known issues, FAQ)",
        "behavioural",
    ),
    "F91": Entry(
        "F91",
        (
            "Intune keeps a device unenrolled from Settings until cleanup rules fire (30-270 "
            "days); a removed device that checks in again reappears."
        ),
        "S19 (Intune docs, wipe and retire devices; vendor)",
        "behavioural",
    ),
}

#: Section 3 of spec/facts.md: each open question and the decision the model takes.
AMBIGUITIES: dict[str, Entry] = {
    "A1": Entry(
        "A1",
        (
            "who aborts the sessions of F14, is 1223 sent; decided: the device drops the exchange "
            "unsignalled, the server aborts its own pending state for the enrollment"
        ),
        (
            "facts.md section 3 (on F14); S1 (Disconnecting from MDM, 2024), server-initiated "
            "section; S5 (OMA DM Protocol 1.2.1) 8.1"
        ),
        "decision",
    ),
    "A2": Entry(
        "A2",
        (
            "does the device await the reply to its alert package; decided: it does not, and "
            "commands in that reply are ignored"
        ),
        (
            "facts.md section 3 (on F7, F15); S1 (Disconnecting from MDM, 2024), user-initiated "
            "section; S5 (OMA DM Protocol 1.2.1) 8.7; S0 (seed MT)"
        ),
        "decision",
    ),
    "A3": Entry(
        "A3",
        "what messageid=1 implies; decided: a new session carrying Alert 1201 and then the 1226",
        (
            "facts.md section 3 (on F15); S3 ([MS-MDM] v15.0) 2.2.3.6; S17 (windows-itpro-docs "
            "issues #8376, #8849)"
        ),
        "decision",
    ),
    "A4": Entry(
        "A4",
        (
            "how the server tells admin from user unenroll, and a typeless 1226; decided: "
            "correlate with its own Exec state; typeless is the alert_recognition knob"
        ),
        (
            "facts.md section 3 (on F10, F16); S1 (Disconnecting from MDM, 2024), "
            "server-initiated section; S17 (windows-itpro-docs issues #8376, #8849)"
        ),
        "decision",
    ),
    "A5": Entry(
        "A5",
        (
            "whether admin unenroll reports success; decided: the 1226 alert is the report, best "
            "effort, without a delivery guarantee"
        ),
        (
            "facts.md section 3 (on F8, F15); S1 (Disconnecting from MDM, 2024), intro and "
            "cleanup list, server-initiated section"
        ),
        "decision",
    ),
    "A6": Entry(
        "A6",
        (
            "retry semantics of the alert; decided: fire once, no retry timer, cleanup proceeds "
            "if the send fails"
        ),
        (
            "facts.md section 3 (on F3, F11); S1 (Disconnecting from MDM, 2024), user-initiated "
            "section; S18 (winevt-kb, DMEnterpriseDiagnostics event strings); S3 ([MS-MDM] v15.0) "
            "3.1.6"
        ),
        "decision",
    ),
    "A7": Entry(
        "A7",
        (
            "Exec Data, LocURI and Format conflicts; decided: target Provider/{ID}/Unenroll "
            "carrying the ProviderID as Data; every variant is accepted"
        ),
        (
            "facts.md section 3 (on F24, F25, F26, F28); S1 (Disconnecting from MDM, 2024), IT "
            "admin-requested section; S2; S4"
        ),
        "decision",
    ),
    "A8": Entry(
        "A8",
        (
            "when the Exec may be sent and whether it must be last; decided: in any "
            "client-initiated session, with no position rule"
        ),
        (
            "facts.md section 3 (on F17, F23, F29); S1 (Disconnecting from MDM, 2024), IT "
            "admin-requested section; S2; S4"
        ),
        "decision",
    ),
    "A9": Entry(
        "A9",
        (
            "which Status the Exec gets; decided: none is normal, mobile AADJ returns an error "
            "status, work-account enrollments fail silently"
        ),
        ("facts.md section 3 (on F20, F21); S11 (What's new in MDM enrollment: known issues, FAQ)"),
        "decision",
    ),
    "A10": Entry(
        "A10",
        (
            "how the server confirms unenrollment; decided: presumed unenrolled after silence "
            "beyond the poll interval, and a check-in resurrects the record"
        ),
        (
            "facts.md section 3 (on F55, F90, F91); S1 (Disconnecting from MDM, 2024), "
            "user-initiated section; S19 (Intune docs, wipe and retire devices; vendor)"
        ),
        "decision",
    ),
    "A11": Entry(
        "A11",
        (
            "whether the user's abort of active sessions signals 1223; decided: no, the abort is "
            "unsignalled"
        ),
        (
            "facts.md section 3 (on F6); S1 (Disconnecting from MDM, 2024), user-initiated "
            "section; S5 (OMA DM Protocol 1.2.1) 8.1"
        ),
        "decision",
    ),
    "A12": Entry(
        "A12",
        "which OMA DM version the docs mean; decided: OMA DM 1.2.1 is the reference",
        (
            "facts.md section 3; S8 (Server requirements for Windows MDM); S3 ([MS-MDM] v15.0); "
            "S6 (OMA DM protocol support); S1 (Disconnecting from MDM, 2024)"
        ),
        "decision",
    ),
    "A13": Entry(
        "A13",
        (
            "MS-MDM schema gaps (Alert in SyncBody, Item-less 1201, Correlator); decided: follow "
            "the OMA DM 1.2.1 content models, accept a 1201 with no Item"
        ),
        "facts.md section 3; S3 ([MS-MDM] v15.0) 2.2; S5 (OMA DM Protocol 1.2.1)",
        "decision",
    ),
    "A14": Entry(
        "A14",
        (
            "SessionID format, opaque or decimal or 2 bytes; decided: the server handles it as an "
            "opaque token"
        ),
        "facts.md section 3 (on F72); S3 ([MS-MDM] v15.0) 2.2.3.8; S6 (OMA DM protocol support)",
        "decision",
    ),
    "A15": Entry(
        "A15",
        (
            "whether Disconnect is always available; decided: it is a function of the enrollment "
            "kind and the policy"
        ),
        (
            "facts.md section 3 (on F43, F46, F47); S10 (MDM enrollment of Windows devices); S1 "
            "(Disconnecting from MDM, 2024), Work Access settings section; S9; S13"
        ),
        "decision",
    ),
    "A16": Entry(
        "A16",
        (
            "AADJ remote unenroll outcome; decided: on desktop it removes the AAD association, on "
            "mobile it fails and a wipe is needed"
        ),
        (
            "facts.md section 3 (on F50, F52); S1 (Disconnecting from MDM, 2024), Azure AD Join "
            "section; S11 (What's new in MDM enrollment: known issues, FAQ)"
        ),
        "decision",
    ),
    "A17": Entry(
        "A17",
        "alert and clock of the lost-contact self-unenroll; decided: it sends no alert",
        "facts.md section 3 (on F13); S2 (DMClient CSP reference), Provider node",
        "decision",
    ),
    "A18": Entry(
        "A18",
        (
            "whether the server's reply to the unenroll package may be lost or ignored; decided: "
            "yes, with no error on either side"
        ),
        "facts.md section 3 (on F68); S5 (OMA DM Protocol 1.2.1) 8; S3 ([MS-MDM] v15.0) 2.2.6.1",
        "decision",
    ),
    "A19": Entry(
        "A19",
        (
            "phone wording, and whether the model is desktop only; decided: desktop and mobile "
            "are both modelled, the platform is part of the scope"
        ),
        (
            "facts.md section 3 (on F46, F52); S1 (Disconnecting from MDM, 2024), intro and "
            "cleanup list"
        ),
        "decision",
    ),
}

#: Section 3 of spec/real-world.md: scenarios real servers mishandled or must handle.
INTERLEAVINGS: dict[str, Entry] = {
    "real-world 3.1": Entry(
        "real-world 3.1",
        (
            "The unenroll alert arrives while commands are queued for the device; none may be "
            "issued or stay pending once the unenroll is accepted."
        ),
        "Fleet (FK cascade), WSO2 and latchz (left pending), Mattrax 2020 (sends more)",
        "interleaving",
    ),
    "real-world 3.2": Entry(
        "real-world 3.2",
        (
            "The one-shot 1226 is lost and the server keeps a ghost enrollment unless a liveness "
            "or timeout path clears it."
        ),
        "MS doc (no retry); none of Fleet, Mattrax, WSO2, latchz has one",
        "interleaving",
    ),
    "real-world 3.3": Entry(
        "real-world 3.3",
        (
            "The 1226 comes unauthenticated; the server answers with a challenge first, and a "
            "device that never resends with credentials loses the alert."
        ),
        "Fleet (401/407 challenge)",
        "interleaving",
    ),
    "real-world 3.4": Entry(
        "real-world 3.4",
        (
            "A 1226 reaches a server that has disabled MDM or already deleted the record; it must "
            "be accepted idempotently."
        ),
        "Fleet #24209 (unknown device); WSO2 (404)",
        "interleaving",
    ),
    "real-world 3.5": Entry(
        "real-world 3.5",
        (
            "An Unenroll Exec is queued, the device is offline and the user unenrolls locally: "
            "the Exec never gets a Status, yet unenrollment happens anyway."
        ),
        "WSO2 (DISENROLL closed by the 1226)",
        "interleaving",
    ),
    "real-world 3.6": Entry(
        "real-world 3.6",
        (
            "An admin unenroll yields the same userrequest alert as a user one, so the alert "
            "alone cannot say who started it."
        ),
        "MS doc, S1 (Disconnecting from MDM) server-initiated section",
        "interleaving",
    ),
    "real-world 3.7": Entry(
        "real-world 3.7",
        (
            "The device re-enrolls under the same HWDevID before the server processed its "
            "unenroll, with the old record still present."
        ),
        ("Fleet (delete by HWDevID), Mattrax 2020 (DeviceCapReached), WSO2 (REMOVED plus new row)"),
        "interleaving",
    ),
    "real-world 3.8": Entry(
        "real-world 3.8",
        (
            "A late or duplicate 1226 of the old enrollment lands after re-enrollment and may "
            "delete the new one; messages need an enrollment epoch."
        ),
        "Fleet delete by device id (inferred)",
        "interleaving",
    ),
    "real-world 3.9": Entry(
        "real-world 3.9",
        (
            "Two physical devices share one hardware id (cloned image), and one enrollment evicts "
            "the other."
        ),
        "Fleet #50612, PR #52409",
        "interleaving",
    ),
    "real-world 3.10": Entry(
        "real-world 3.10",
        (
            "One device id has duplicate records, so a delete expecting exactly one row fails and "
            "the unenroll rolls back."
        ),
        "Fleet #20764 (inferred)",
        "interleaving",
    ),
    "real-world 3.11": Entry(
        "real-world 3.11",
        (
            "A queued wipe has not run yet when the device re-enrolls or its host record gets "
            "deleted."
        ),
        "Fleet #51298; re-enroll cascade (inferred)",
        "interleaving",
    ),
    "real-world 3.12": Entry(
        "real-world 3.12",
        (
            "A wipe is delivered but never acknowledged as the device resets mid-session; "
            "ack-based or done-at-delivery must be an explicit choice."
        ),
        "Fleet #34994; WSO2 and latchz (done at send)",
        "interleaving",
    ),
    "real-world 3.13": Entry(
        "real-world 3.13",
        (
            "After a successful wipe the device enrolls again into its old host record, whose "
            "wipe reference now dangles."
        ),
        "Fleet #29086",
        "interleaving",
    ),
    "real-world 3.14": Entry(
        "real-world 3.14",
        (
            "MDM is turned off for everyone while sessions are open or commands wait in queues; "
            "unenrolls must still be accepted, commands withdrawn."
        ),
        "Fleet #24209, PR #43719",
        "interleaving",
    ),
    "real-world 3.15": Entry(
        "real-world 3.15",
        (
            "The agent re-enrolls by itself during offboarding (MDM off, re-enroll, uninstall); "
            "do it in one atomic step or switch off the trigger first."
        ),
        "Fleet PR #47725",
        "interleaving",
    ),
    "real-world 3.16": Entry(
        "real-world 3.16",
        (
            "1201, 1224 LoginStatus and 1226 share one SyncBody; a parser keeping only the last "
            "alert, or deleting mid-loop, goes wrong."
        ),
        "MicrosoftDocs #8376; WSO2 (last Alert only), Fleet (document order)",
        "interleaving",
    ),
    "real-world 3.17": Entry(
        "real-world 3.17",
        (
            "A 1226 of another Type (app install result, health attestation) arrives; matching on "
            "Data alone disenrolls wrongly."
        ),
        "WSO2 (matches alert Data only)",
        "interleaving",
    ),
    "real-world 3.18": Entry(
        "real-world 3.18",
        (
            "Multi-message sessions: MsgID 2+ after a challenge, 1222 large objects, 1223 aborts, "
            "and an unenroll during an open session."
        ),
        "no peer handles 1222/1223; MS doc (deadlock wording)",
        "interleaving",
    ),
    "real-world 3.19": Entry(
        "real-world 3.19",
        (
            "SessionID edge values: 0, hex letters, reuse or wrap; treating SessionID 1 as "
            "enrollment completion misroutes an unenroll."
        ),
        "Fleet #25581; WSO2 (inferred)",
        "interleaving",
    ),
    "real-world 3.20": Entry(
        "real-world 3.20",
        (
            "The server commits the enrollment before the device confirms; failed provisioning "
            "leaves a record with no device, and retries hit already-enrolled."
        ),
        "Fleet #29042",
        "interleaving",
    ),
    "real-world 3.21": Entry(
        "real-world 3.21",
        (
            "An Entra-joined or auto-enrolled device cannot Disconnect; it leaves by removing the "
            "join, and a remote unenroll also unjoins it."
        ),
        "MS doc (S1 Work Access and Azure AD Join sections)",
        "interleaving",
    ),
    "real-world 3.22": Entry(
        "real-world 3.22",
        (
            "A device out of contact long enough unenrolls on its own with no way to tell the "
            "server; structurally a lost 1226."
        ),
        "DMClient CSP NumberOfDaysAfterLostContactToUnenroll (Mattrax DDF copy)",
        "interleaving",
    ),
    "real-world 3.23": Entry(
        "real-world 3.23",
        (
            "The server replies to the unenroll session by sending commands; the device has "
            "already decided, so they are ignored or fail."
        ),
        "Fleet (DevDetail Get, ESP commands), Mattrax 2020 (payloads)",
        "interleaving",
    ),
}


def entry(id: str) -> Entry:
    """The entry for a fact, ambiguity or interleaving id ("F14", "A10", "real-world 3.8")."""
    found = _ALL.get(id.strip())
    if found is None:
        raise KeyError(
            f"unknown catalog id {id!r}: expected F1-F{len(FACTS)}, A1-A{len(AMBIGUITIES)} "
            f"or real-world 3.1-3.{len(INTERLEAVINGS)}"
        )
    return found


#: Other sections of spec/real-world.md the code refers to.
SECTIONS: dict[str, Entry] = {
    "real-world 1.6": Entry(
        "real-world 1.6",
        "Fleet, Mattrax 2020, WSO2 and latchz side by side: unenrolled records, 1226 matching, "
        "queued commands, delivery and re-enrollment keys.",
        "spec/real-world.md section 1.6 (from each project's repository)",
        "section",
    ),
    "real-world 5": Entry(
        "real-world 5",
        "What a faithful model needs: a generation on every message, explicit queues, lossy "
        "sessions, and the server's view kept apart from the device's.",
        "spec/real-world.md section 5",
        "section",
    ),
}


def all_entries() -> dict[str, Entry]:
    """Every entry by id: the facts, the ambiguities, the interleavings, the sections."""
    return FACTS | AMBIGUITIES | INTERLEAVINGS | SECTIONS


_ALL: dict[str, Entry] = all_entries()

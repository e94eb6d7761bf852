"""Name and label validation with k8s.io/apimachinery's exact wording.

kubectl shows these messages verbatim, so they are copied character for character (including the
double space in "(e.g. 'my-name',  or '123-abc'").
"""

from __future__ import annotations

import re

from .cron import CronError, Schedule
from .errors import FieldError

DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + r")*"
DNS1035_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
QUALIFIED_NAME_PART = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                 "'-' or '.', and must start and end with an alphanumeric character (e.g. "
                 f"'example.com', regex used for validation is '{DNS1123_SUBDOMAIN}')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
             "and must start and end with an alphanumeric character (e.g. 'my-name',  or "
             f"'123-abc', regex used for validation is '{DNS1123_LABEL}')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
               "with an alphabetic character, and end with an alphanumeric character (e.g. "
               f"'my-name',  or 'abc-123', regex used for validation is '{DNS1035_LABEL}')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, "
                   "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                   "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                   f"'{LABEL_VALUE}')")
NAME_PART_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                 "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                 f"'123-abc', regex used for validation is '{QUALIFIED_NAME_PART}')")


def _full(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def dns1123_subdomain_errors(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not _full(DNS1123_SUBDOMAIN, value):
        errs.append(SUBDOMAIN_MSG)
    return errs


def dns1123_label_errors(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _full(DNS1123_LABEL, value):
        errs.append(LABEL_MSG)
    return errs


def dns1035_label_errors(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _full(DNS1035_LABEL, value):
        errs.append(DNS1035_MSG)
    return errs


def label_value_errors(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _full(LABEL_VALUE, value):
        errs.append(LABEL_VALUE_MSG)
    return errs


def qualified_name_errors(value: str) -> list[str]:
    """Label and annotation keys: an optional DNS subdomain prefix, "/", and a name part."""
    prefix, slash, name = value.rpartition("/")
    errs = []
    if slash:
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + e for e in dns1123_subdomain_errors(prefix)]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    elif not _full(QUALIFIED_NAME_PART, name):
        errs.append(NAME_PART_MSG)
    return errs


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def invalid_value(field: str, value: str, detail: str) -> FieldError:
    return FieldError("FieldValueInvalid", field, f"Invalid value: {_quote(value)}: {detail}")


def required(field: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def _path_segment_errors(name: str) -> list[str]:
    """path.IsValidPathSegmentName."""
    if name in (".", ".."):
        return [f'may not be \'{name}\'']
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def name_errors(kind_rule: str, name: str) -> list[FieldError]:
    """Errors for metadata.name under a naming rule: "subdomain", "label" or "dns1035"."""
    check = {"subdomain": dns1123_subdomain_errors, "label": dns1123_label_errors,
             "dns1035": dns1035_label_errors, "path": _path_segment_errors}[kind_rule]
    return [invalid_value("metadata.name", name, msg) for msg in check(name)]


def labels_errors(labels: object, field: str = "metadata.labels") -> list[FieldError]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [FieldError("FieldValueInvalid", field, "Invalid value: must be a map of strings")]
    errs = []
    for key, value in labels.items():
        errs += [invalid_value(field, key, msg) for msg in qualified_name_errors(str(key))]
        if not isinstance(value, str):
            errs.append(FieldError("FieldValueInvalid", f"{field}[{key}]",
                                   "Invalid value: must be a string"))
        else:
            errs += [invalid_value(field, value, msg) for msg in label_value_errors(value)]
    return errs


def annotations_errors(annotations: object, field: str = "metadata.annotations") -> list[FieldError]:
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [FieldError("FieldValueInvalid", field, "Invalid value: must be a map of strings")]
    errs = []
    for key, value in annotations.items():
        errs += [invalid_value(field, key, msg) for msg in qualified_name_errors(str(key))]
        if not isinstance(value, str):
            errs.append(FieldError("FieldValueInvalid", f"{field}[{key}]",
                                   "Invalid value: must be a string"))
    return errs


# -- whole-object checks run on create and update ----------------------------------------------

NAME_RULES = {"namespaces": "label", "services": "dns1035",
              # RBAC names are path segments (ValidateRBACName): "system:discovery" is valid;
              # APIServices are named "<version>.<group>" ("v1." for the core group).
              "roles": "path", "rolebindings": "path", "clusterroles": "path",
              "clusterrolebindings": "path", "apiservices": "path"}


def _go_map(labels: dict) -> str:
    """Go's %#v of a map[string]string, which the selector-mismatch message prints."""
    return "map[string]string{" + ", ".join(
        f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"


def _selector_matches(selector: dict, labels: dict) -> bool:
    from .selectors import label_selector_from_match  # selectors imports this module
    try:
        return label_selector_from_match(selector).matches(labels)
    except Exception:  # a malformed selector is reported by its own error below
        return False


def _pod_spec_errors(spec: object, path: str) -> list[FieldError]:
    if not isinstance(spec, dict):
        return [required(path)]
    containers = spec.get("containers")
    if not containers:
        return [required(f"{path}.containers")]
    errs = []
    seen: set[str] = set()
    for i, c in enumerate(containers):
        where = f"{path}.containers[{i}]"
        if not isinstance(c, dict):
            errs.append(FieldError("FieldValueInvalid", where, "Invalid value: must be an object"))
            continue
        name = c.get("name")
        if not name:
            errs.append(required(f"{where}.name"))
        else:
            errs += [invalid_value(f"{where}.name", name, m) for m in dns1123_label_errors(name)]
            if name in seen:
                errs.append(FieldError("FieldValueDuplicate", f"{where}.name",
                                       f'Duplicate value: "{name}"'))
            seen.add(name)
        if not c.get("image"):
            errs.append(required(f"{where}.image"))
    return errs


def object_errors(plural: str, obj: dict) -> list[FieldError]:
    """Labels, annotations and the type-specific rules clients trip over most (missing
    selector, selector not matching the template, pods without containers)."""
    meta = obj.get("metadata") or {}
    errs = labels_errors(meta.get("labels")) + annotations_errors(meta.get("annotations"))
    spec = obj.get("spec")
    if plural == "pods":
        errs += _pod_spec_errors(spec, "spec")
    elif plural in ("deployments", "replicasets", "daemonsets", "statefulsets"):
        spec = spec if isinstance(spec, dict) else {}
        selector = spec.get("selector")
        template = spec.get("template") or {}
        tlabels = (template.get("metadata") or {}).get("labels") or {}
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            errs.append(required("spec.selector"))
        elif not _selector_matches(selector, tlabels):
            errs.append(FieldError("FieldValueInvalid", "spec.template.metadata.labels",
                                   f"Invalid value: {_go_map(tlabels)}: `selector` does not "
                                   "match template `labels`"))
        errs += _pod_spec_errors(template.get("spec"), "spec.template.spec")
        replicas = spec.get("replicas")
        if isinstance(replicas, int) and replicas < 0:
            errs.append(FieldError("FieldValueInvalid", "spec.replicas",
                                   f"Invalid value: {replicas}: must be greater than or equal to 0"))
    elif plural == "replicationcontrollers":
        spec = spec if isinstance(spec, dict) else {}
        selector = spec.get("selector") or {}
        template = spec.get("template") or {}
        tlabels = (template.get("metadata") or {}).get("labels") or {}
        if not selector:
            errs.append(required("spec.selector"))
        elif any(tlabels.get(k) != v for k, v in selector.items()):
            errs.append(FieldError("FieldValueInvalid", "spec.template.metadata.labels",
                                   f"Invalid value: {_go_map(tlabels)}: `selector` does not "
                                   "match template `labels`"))
        errs += _pod_spec_errors(template.get("spec"), "spec.template.spec")
    elif plural == "leases":
        errs += _lease_spec_errors(spec if isinstance(spec, dict) else {})
    elif plural == "jobs":
        errs += _job_spec_errors(spec if isinstance(spec, dict) else {}, "spec")
    elif plural == "cronjobs":
        spec = spec if isinstance(spec, dict) else {}
        if not spec.get("schedule"):
            errs.append(required("spec.schedule"))
        else:
            try:
                Schedule(str(spec["schedule"]))
            except CronError as exc:  # cron.ParseStandard's error, as the API server words it
                errs.append(invalid_value("spec.schedule", str(spec["schedule"]), str(exc)))
        errs += _job_spec_errors((spec.get("jobTemplate") or {}).get("spec") or {},
                                 "spec.jobTemplate.spec")
    return errs


def _job_spec_errors(spec: dict, path: str) -> list[FieldError]:
    """A Job's pods are never restarted in place forever: only OnFailure and Never are allowed."""
    template = spec.get("template") or {}
    errs = _pod_spec_errors(template.get("spec"), f"{path}.template.spec")
    policy = (template.get("spec") or {}).get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        errs.append(FieldError("FieldValueNotSupported", f"{path}.template.spec.restartPolicy",
                               f'Unsupported value: "{policy or ""}": supported values: '
                               '"OnFailure", "Never"'))
    for field in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds",
                  "ttlSecondsAfterFinished"):
        value = spec.get(field)
        if isinstance(value, int) and value < 0:
            errs.append(FieldError("FieldValueInvalid", f"{path}.{field}",
                                   f"Invalid value: {value}: must be greater than or equal to 0"))
    return errs


def _lease_spec_errors(spec: dict) -> list[FieldError]:
    """What the API server's ValidateLeaseSpec refuses (pkg/apis/coordination/validation)."""
    errs = []
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        errs.append(FieldError("FieldValueInvalid", "spec.leaseDurationSeconds",
                               f"Invalid value: {duration}: must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if isinstance(transitions, int) and transitions < 0:
        errs.append(FieldError("FieldValueInvalid", "spec.leaseTransitions",
                               f"Invalid value: {transitions}: must be greater than or equal to 0"))
    return errs


# -- update-only rules ----------------------------------------------------------------------------

POD_UPDATABLE = ("`spec.containers[*].image`,`spec.initContainers[*].image`,"
                 "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                 "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
                 "was previously negative)")


def _go_label_selector(selector: dict) -> str:
    labels = selector.get("matchLabels")
    exprs = selector.get("matchExpressions")
    ml = _go_map(labels) if labels else "map[string]string(nil)"
    me = "[]v1.LabelSelectorRequirement(nil)" if not exprs else \
        "[]v1.LabelSelectorRequirement{...}"
    return f"v1.LabelSelector{{MatchLabels:{ml}, MatchExpressions:{me}}}"


def update_errors(plural: str, old: dict, new: dict) -> list[FieldError]:
    """Fields the API server refuses to change after create (kubectl apply users hit these)."""
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    if plural in ("deployments", "replicasets", "daemonsets", "statefulsets"):
        if new_spec.get("selector") != old_spec.get("selector"):
            return [FieldError("FieldValueInvalid", "spec.selector",
                               f"Invalid value: {_go_label_selector(new_spec.get('selector') or {})}: "
                               "field is immutable")]
    if plural == "pods" and _pod_spec_without_mutable(old_spec, old_spec) != \
            _pod_spec_without_mutable(new_spec, old_spec):
        return [FieldError("FieldValueForbidden", "spec",
                           f"Forbidden: pod updates may not change fields other than {POD_UPDATABLE}")]
    return []


def _pod_spec_without_mutable(spec: dict, old: dict) -> dict:
    """The spec with the fields a pod update may change set to the old values."""
    import copy

    spec = copy.deepcopy(spec)
    for field in ("containers", "initContainers"):
        old_list = old.get(field) or []
        for i, c in enumerate(spec.get(field) or []):
            if isinstance(c, dict) and i < len(old_list):
                c["image"] = old_list[i].get("image")
    for field in ("activeDeadlineSeconds", "terminationGracePeriodSeconds"):
        spec.pop(field, None)
    old_tolerations = old.get("tolerations") or []
    tolerations = spec.get("tolerations") or []
    if tolerations[:len(old_tolerations)] == old_tolerations:
        spec.pop("tolerations", None)
    return spec

{{- define "baton.name" -}}baton{{- end -}}

{{- define "baton.fullname" -}}
{{- if contains "baton" .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}{{- else -}}{{ printf "%s-baton" .Release.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "baton.labels" -}}
app.kubernetes.io/name: {{ include "baton.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "baton.selector" -}}
app.kubernetes.io/name: {{ include "baton.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "baton.serviceAccount" -}}
{{- default (printf "%s-operator" (include "baton.fullname" .)) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "baton.otlpEndpoint" -}}
{{- if .Values.otlp.endpoint -}}{{ .Values.otlp.endpoint }}{{- else if .Values.jaeger.enabled -}}http://{{ include "baton.fullname" . }}-jaeger.{{ .Release.Namespace }}.svc:4318{{- end -}}
{{- end -}}

{{/* What the operator may do to run Workflows in a namespace: least privilege, no Secret access. */}}
{{- define "baton.workloadRules" -}}
- apiGroups: ["baton.dev"]
  resources: ["workflows"]
  # patch: Kopf records handler progress in annotations.
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["baton.dev"]
  resources: ["workflows/status"]
  verbs: ["get", "patch"]
- apiGroups: ["baton.dev"]
  # Owner references with blockOwnerDeletion need it where that admission plugin is on.
  resources: ["workflows/finalizers"]
  verbs: ["update"]
- apiGroups: ["baton.dev"]
  resources: ["policies"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["configmaps"]
  # list/delete: old revisions beyond spec.history.limit are pruned.
  verbs: ["get", "list", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["services", "serviceaccounts"]
  verbs: ["get", "create", "patch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "create", "patch"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["get", "create", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "create", "patch", "delete"]
- apiGroups: ["discovery.k8s.io"]
  # The run summary is read from ready runtime pods found through their Service's slices.
  resources: ["endpointslices"]
  verbs: ["list"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}

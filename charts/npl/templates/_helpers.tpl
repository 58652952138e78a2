{{/* Chart name, overridable. */}}
{{- define "npl.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-wide prefix: the release name when it already holds the chart name ("npl" -> npl-agent). */}}
{{- define "npl.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "npl.agent.fullname" -}}{{ include "npl.fullname" . }}-agent{{- end -}}
{{- define "npl.controller.fullname" -}}{{ include "npl.fullname" . }}-controller{{- end -}}

{{- define "npl.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "npl.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "agent"). */}}
{{- define "npl.selectorLabels" -}}
app.kubernetes.io/name: {{ include "npl.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "npl.componentLabels" -}}
{{ include "npl.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "npl.agent.serviceAccountName" -}}
{{- if .Values.agent.serviceAccount.create -}}
{{- default (include "npl.agent.fullname" .) .Values.agent.serviceAccount.name -}}
{{- else -}}
{{- required "agent.serviceAccount.name is required when agent.serviceAccount.create is false" .Values.agent.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "npl.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create -}}
{{- default (include "npl.controller.fullname" .) .Values.controller.serviceAccount.name -}}
{{- else -}}
{{- required "controller.serviceAccount.name is required when controller.serviceAccount.create is false" .Values.controller.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository:tag, the tag defaulting to the chart's appVersion; call with (dict "root" $ "image" .Values.agent.image). */}}
{{- define "npl.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag | toString) -}}
{{- end -}}

{{/* First port of agent.portRange ("61000-62000" -> 61000). */}}
{{- define "npl.agent.portRangeStart" -}}
{{- regexReplaceAll "^([0-9]+)-[0-9]+$" .Values.agent.portRange "${1}" -}}
{{- end -}}

{{/* The agent's capabilities: see the chart README ("Why these capabilities"). */}}
{{- define "npl.agent.capabilities" -}}
- NET_ADMIN
{{- if eq .Values.agent.dataplane "iptables" }}
- NET_RAW
{{- end }}
{{- if or (lt (atoi (include "npl.agent.portRangeStart" .)) 1024) (lt (int .Values.agent.healthPort) 1024) }}
- NET_BIND_SERVICE
{{- end }}
{{- end -}}

{{/* The agent's configuration as environment variables (npl-agent reads each flag from one). */}}
{{- define "npl.agent.env" -}}
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: NPL_PORT_RANGE
  value: {{ .Values.agent.portRange | quote }}
- name: NPL_DATAPLANE
  value: {{ .Values.agent.dataplane | quote }}
- name: NPL_NFT_TABLE
  value: {{ .Values.agent.nftTable | quote }}
- name: NPL_IPTABLES_CHAIN
  value: {{ .Values.agent.iptablesChain | quote }}
- name: NODE_IP
  valueFrom:
    fieldRef:
      fieldPath: status.hostIP
- name: NPL_HEALTH_ADDRESS
  {{- $host := .Values.agent.healthHost }}
  value: {{ (contains ":" $host | ternary (printf "[%s]:%d" $host (int .Values.agent.healthPort)) (printf "%s:%d" $host (int .Values.agent.healthPort))) | quote }}
- name: NPL_WORKERS
  value: {{ .Values.agent.workers | quote }}
- name: NPL_RELIST_PERIOD
  value: {{ .Values.agent.relistPeriod | quote }}
- name: NPL_VERIFY_PERIOD
  value: {{ .Values.agent.verifyPeriod | quote }}
- name: NPL_UNREADY_AFTER
  value: {{ .Values.agent.unreadyAfter | quote }}
- name: NPL_STALL_LIMIT
  value: {{ .Values.agent.stallLimit | quote }}
- name: NPL_LOG_LEVEL
  value: {{ .Values.agent.logLevel | quote }}
- name: NPL_API_QPS
  value: {{ .Values.agent.apiQps | quote }}
- name: NPL_API_BURST
  value: {{ .Values.agent.apiBurst | quote }}
{{- end -}}

{{/* Fails with a clear message when agent.portRange is not start-end within 1-65535, start <= end. */}}
{{- define "npl.agent.validate" -}}
{{- $parts := splitList "-" .Values.agent.portRange -}}
{{- $start := atoi (index $parts 0) -}}
{{- $end := atoi (index $parts 1) -}}
{{- if or (lt $start 1) (gt $end 65535) (gt $start $end) -}}
{{- fail (printf "agent.portRange %q: expected start-end with 1 <= start <= end <= 65535" .Values.agent.portRange) -}}
{{- end -}}
{{- end -}}

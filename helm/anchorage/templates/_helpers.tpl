{{/*
Chart name, truncated to 63 characters (the DNS label limit).
*/}}
{{- define "anchorage.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: <release>-<chart>, or the release name when it
already contains the chart name. Leaves room for the "-server"/"-worker"
suffixes.
*/}}
{{- define "anchorage.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 56 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 56 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 56 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The server's Job and Service name; workers resolve it by DNS. */}}
{{- define "anchorage.serverName" -}}
{{- printf "%s-server" (include "anchorage.fullname" .) }}
{{- end }}

{{/* The workers' Indexed Job and headless Service name. */}}
{{- define "anchorage.workerName" -}}
{{- printf "%s-worker" (include "anchorage.fullname" .) }}
{{- end }}

{{/* chart label value: name-version. */}}
{{- define "anchorage.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels (stable across upgrades). */}}
{{- define "anchorage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "anchorage.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Standard labels on every resource. */}}
{{- define "anchorage.labels" -}}
helm.sh/chart: {{ include "anchorage.chart" . }}
{{ include "anchorage.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: anchorage
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The image reference; the tag defaults to the chart's appVersion. */}}
{{- define "anchorage.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The server endpoint workers connect to: its Service's DNS name. */}}
{{- define "anchorage.serverEndpoint" -}}
{{- printf "tcp://%s:%d" (include "anchorage.serverName" .) (int .Values.server.port) }}
{{- end }}

{{/* Probes on the metrics port: /readyz (ready once bound or joined) and /healthz. */}}
{{- define "anchorage.probes" -}}
readinessProbe:
  httpGet:
    path: /readyz
    port: metrics
  initialDelaySeconds: {{ .Values.probes.readinessInitialDelaySeconds }}
  periodSeconds: {{ .Values.probes.readinessPeriodSeconds }}
livenessProbe:
  httpGet:
    path: /healthz
    port: metrics
  initialDelaySeconds: {{ .Values.probes.livenessInitialDelaySeconds }}
  periodSeconds: {{ .Values.probes.livenessPeriodSeconds }}
  failureThreshold: {{ .Values.probes.livenessFailureThreshold }}
{{- end }}

{{/* The run's YAML config (keys as the flags without dashes). */}}
{{- define "anchorage.config" -}}
{{- $t := .Values.training -}}
workers: {{ .Values.workers }}
algorithm: {{ $t.algorithm }}
local-steps: {{ $t.localSteps }}
{{- if not (kindIs "invalid" $t.alpha) }}
alpha: {{ $t.alpha }}
{{- end }}
{{- if not (kindIs "invalid" $t.beta) }}
beta: {{ $t.beta }}
{{- end }}
lr: {{ $t.lr }}
momentum: {{ $t.momentum }}
batch-size: {{ $t.batchSize }}
epochs: {{ $t.epochs }}
max-versions: {{ $t.maxVersions | int64 }}
dataset: {{ $t.dataset }}
model: {{ $t.model | quote }}
partition: {{ $t.partition | quote }}
codec: {{ $t.codec }}
seed: {{ $t.seed | int64 }}
{{- with $t.aggregation }}
aggregation: {{ . }}
{{- end }}
eval-interval: {{ $t.evalInterval }}
log-level: {{ .Values.logLevel }}
{{- with $t.extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The checkpoint PersistentVolumeClaim: the existing one, or the chart's.
*/}}
{{- define "anchorage.checkpointClaim" -}}
{{- .Values.checkpoint.persistence.existingClaim | default (printf "%s-checkpoints" (include "anchorage.fullname" .)) }}
{{- end }}

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

{{/*
The server endpoint workers connect to: its Service's DNS name; or, sharded,
every shard's pod by its DNS name under the headless Service (the pods of
an Indexed Job are named <job>-<index>), shard 0 first.
*/}}
{{- define "anchorage.serverEndpoint" -}}
{{- printf "tcp://%s:%d" (include "anchorage.serverName" .) (int .Values.server.port) }}
{{- end }}

{{- define "anchorage.serverEndpoints" -}}
{{- $name := include "anchorage.serverName" . -}}
{{- $endpoints := list -}}
{{- range $i := until (int .Values.server.shards) -}}
{{- $endpoints = append $endpoints (printf "tcp://%s-%d.%s:%d" $name $i $name (int $.Values.server.port)) -}}
{{- end -}}
{{- join "," $endpoints -}}
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

{{/*
CURVE (security.curve): the user's Secret of `anchorage keygen` files, the
directory it is mounted at, and each role's args, mount and volume; called
with (dict "root" $ "role" "server"|"worker").
*/}}
{{- define "anchorage.curveSecret" -}}
{{- .Values.security.curve.secretName | default (printf "%s-curve" (include "anchorage.fullname" .)) }}
{{- end }}

{{/*
Mounted inside the config volume at /etc/anchorage: Secret and ConfigMap
volumes may be nested (the kubelet makes the mount point when it sets up
the outer volume), so both roles keep reading /etc/anchorage/config.yaml.
*/}}
{{- define "anchorage.curveDir" -}}
/etc/anchorage/curve
{{- end }}

{{- define "anchorage.curveArgs" -}}
{{- $dir := include "anchorage.curveDir" .root -}}
{{- if eq .role "server" -}}
- --curve-secret-key={{ $dir }}/server.secret
- --curve-allowed-keys={{ $dir }}
{{- else -}}
- --curve-secret-key={{ $dir }}/worker-$(WORKER_ID).secret
- --curve-server-key={{ $dir }}/server.pub
{{- end }}
{{- end }}

{{- define "anchorage.curveVolumeMount" -}}
- name: curve
  mountPath: {{ include "anchorage.curveDir" .root }}
  readOnly: true
{{- end }}

{{/*
The Secret's files each role needs, selected with items so that nothing
else is mounted: the server gets its secret key and the public keys it
admits (worker-<i>.pub, key i = worker i), never a worker's secret key;
a worker gets the server's public key and the worker secret keys, never
server.secret. The pods of an Indexed Job share one pod template, so every
worker pod mounts every worker-<i>.secret and picks its own by
$(WORKER_ID): a compromised worker pod could act as another worker of the
run, but never as the server, and nothing outside the run can join.

Mode 0440 rather than 0400: the files of a Secret volume are owned by root
and the containers run as user 10001 (podSecurityContext), so at 0400 only
root could read them. With fsGroup the kubelet gives the files group
fsGroup and adds group read (a 0400 would become 0440 anyway), so 0440 is
the mode the files really get: readable by the container through its
fsGroup, by no one else. Without an fsGroup the keys are unreadable, hence
the check. 288 is 0440 in decimal (YAML 1.1 and 1.2 parsers agree on it).
*/}}
{{- define "anchorage.curveVolume" -}}
{{- $root := .root -}}
{{- if kindIs "invalid" $root.Values.podSecurityContext.fsGroup }}
{{- fail "security.curve.enabled needs podSecurityContext.fsGroup: the CURVE keys are mounted mode 0440, group fsGroup, and the containers do not run as root" }}
{{- end -}}
- name: curve
  secret:
    secretName: {{ include "anchorage.curveSecret" $root }}
    defaultMode: 288
    items:
      {{- if eq .role "server" }}
      - key: server.secret
        path: server.secret
      {{- range $i := until (int $root.Values.workers) }}
      - key: worker-{{ $i }}.pub
        path: worker-{{ $i }}.pub
      {{- end }}
      {{- else }}
      - key: server.pub
        path: server.pub
      {{- range $i := until (int $root.Values.workers) }}
      - key: worker-{{ $i }}.secret
        path: worker-{{ $i }}.secret
      {{- end }}
      {{- end }}
{{- end }}

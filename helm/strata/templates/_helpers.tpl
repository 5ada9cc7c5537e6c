{{/* Release-scoped name prefix: "<release>" when it already contains the chart name, else "<release>-strata". */}}
{{- define "strata.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "strata.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every object. */}}
{{- define "strata.labels" -}}
helm.sh/chart: {{ include "strata.chart" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: strata
{{- end -}}

{{/* Selector labels of one service; call with (dict "root" $ "name" $name). */}}
{{- define "strata.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* Object name of one service; call with (dict "root" $ "name" $name). */}}
{{- define "strata.serviceName" -}}
{{- printf "%s-%s" (include "strata.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "strata.configMapName" -}}
{{- printf "%s-config" (include "strata.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "strata.secretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else -}}
{{- printf "%s-secrets" (include "strata.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "strata.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "strata.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image of one service: [registry/]repository/<service>:tag; call with (dict "root" $ "name" $name "svc" $svc). */}}
{{- define "strata.image" -}}
{{- $img := mergeOverwrite (deepCopy .root.Values.image) (default dict .svc.image) -}}
{{- $repo := printf "%s/%s" $img.repository .name -}}
{{- if $img.registry -}}{{- $repo = printf "%s/%s" $img.registry $repo -}}{{- end -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag | toString) -}}
{{- end -}}

{{/*
Services to deploy: a list of {name, svc} with serviceDefaults merged under each entry of .Values.services,
sorted by name, disabled ones left out. Returned as YAML; use with fromYaml.
*/}}
{{- define "strata.services" -}}
{{- $out := list -}}
{{- range $name := keys .Values.services | sortAlpha -}}
{{- $cfg := index $.Values.services $name | default dict -}}
{{- $svc := mergeOverwrite (deepCopy $.Values.serviceDefaults) $cfg -}}
{{- if $svc.enabled -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "services.%s: a service name must be a DNS label (lowercase letters, digits, '-')" $name) -}}
{{- end -}}
{{- $out = append $out (dict "name" $name "svc" $svc) -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "items" $out) -}}
{{- end -}}

{{/* Workload kind of one service: "StatefulSet" when services.<name>.workload is statefulset, else "Deployment". */}}
{{- define "strata.workloadKind" -}}
{{- if eq (default "deployment" .svc.workload) "statefulset" -}}StatefulSet{{- else -}}Deployment{{- end -}}
{{- end -}}

{{/*
"true" when something other than the workload owns the replica count: the service's HPA, or a KEDA ScaledObject
(keda.enabled and services.<name>.keda.enabled). Empty otherwise. Call with (dict "root" $ "name" $name "svc" $svc).
*/}}
{{- define "strata.autoscaled" -}}
{{- if or .svc.hpa.enabled (include "strata.kedaScaled" .) -}}true{{- end -}}
{{- end -}}

{{/* "true" when a KEDA ScaledObject scales this service (replacing its HPA); empty otherwise. */}}
{{- define "strata.kedaScaled" -}}
{{- if and .root.Values.keda.enabled .svc.keda .svc.keda.enabled -}}true{{- end -}}
{{- end -}}

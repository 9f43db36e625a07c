package scan

import (
	"bytes"
	"fmt"
	"testing"
)

// benchYAML is a 5,000-line multi-document Kubernetes manifest, typical of
// a rendered release: mostly keys without references.
func benchYAML() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() == 0 || bytes.Count(b.Bytes(), []byte("\n")) < 5000; i++ {
		fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: service-%d
  labels:
    app.kubernetes.io/name: service-%d
    app.kubernetes.io/part-of: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: service-%d
  template:
    metadata:
      annotations:
        sidecar.istio.io/inject: "true"
    spec:
      containers:
      - name: server
        image: registry.example.com:5000/acme/service-%d:1.%d.0
        ports:
        - containerPort: 8080
        env:
        - name: PORT
          value: "8080"
        - name: REDIS_ADDR
          value: "redis-cart:6379"
        - name: DRIVER_IMAGE
          value: ghcr.io/acme/driver:2.16.0
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
`, i, i, i, i, i)
	}
	return b.Bytes()
}

func BenchmarkFile(b *testing.B) {
	content := benchYAML()
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		File("release/manifests.yaml", content)
	}
}

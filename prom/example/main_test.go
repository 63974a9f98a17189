package main

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestServerMetrics: concurrent clients on the loopback, then a scrape of
// /metrics over HTTP that must show the exact request counts, no request
// in flight, one latency observation per request and the exact bytes.
func TestServerMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	h, err := newServer(reg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	const G, N = 8, 40
	paths := []string{"/api/v1/items", "/api/v1/items/1", "/api/v1/items/2"}
	var wg sync.WaitGroup
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < N; i++ {
				for _, p := range paths {
					resp, err := srv.Client().Get(srv.URL + p)
					if err != nil {
						t.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()

	want := fmt.Sprintf(`
# HELP http_requests_total HTTP requests by route and status code.
# TYPE http_requests_total counter
http_requests_total{code="200",route="/api/v1/items"} %d
http_requests_total{code="200",route="/api/v1/items/{id}"} %d
http_requests_total{code="404",route="/api/v1/items/{id}"} %d
# HELP http_requests_in_flight HTTP requests being served.
# TYPE http_requests_in_flight gauge
http_requests_in_flight 0
# HELP http_response_bytes_total Bytes of HTTP response bodies written.
# TYPE http_response_bytes_total counter
http_response_bytes_total %d
`, G*N, G*N, G*N, G*N*(len(`["apple","pear"]`+"\n")+len(`"apple"`+"\n")+len("no such item\n")))
	if err := testutil.ScrapeAndCompare(srv.URL+"/metrics", strings.NewReader(want),
		"http_requests_total", "http_requests_in_flight", "http_response_bytes_total"); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "http_request_duration_seconds" {
			hm := mf.GetMetric()[0].GetHistogram()
			if hm.GetSampleCount() != uint64(3*G*N) {
				t.Fatalf("%d latencies observed, want %d", hm.GetSampleCount(), 3*G*N)
			}
			if bs := hm.GetBucket(); bs[len(bs)-1].GetCumulativeCount() > hm.GetSampleCount() {
				t.Fatalf("last bucket %d > count %d", bs[len(bs)-1].GetCumulativeCount(), hm.GetSampleCount())
			}
			return
		}
	}
	t.Fatal("no http_request_duration_seconds in the exposition")
}

func TestCodeText(t *testing.T) {
	for _, c := range []int{0, 200, 404, 599, 600, 1000, -1} {
		if got, want := codeText(c), fmt.Sprint(c); got != want {
			t.Errorf("codeText(%d) = %q", c, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = codeText(503) }); n != 0 {
		t.Errorf("codeText allocates %v times", n)
	}
}

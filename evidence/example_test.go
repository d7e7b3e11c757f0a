package evidence_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/schemas"
)

func ExampleValidator_Decode() {
	reg, err := schemas.Compile() // once per process
	if err != nil {
		log.Fatal(err)
	}
	v := evidence.NewValidator(reg, evidence.DefaultLimits)

	build := `{
	  "apiVersion": "shipgate.dev/v1",
	  "kind": "Build",
	  "release": {"id": "lv-2026-11-26.1", "service": "localizevideos-app", "environment": "production"},
	  "subject": {"repository": "localizevideos/app", "commit": "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e"},
	  "collectedAt": "2026-11-26T10:00:00Z",
	  "collector": {"name": "shipgate", "actor": "ci-bot"},
	  "data": {"command": ["npm", "run", "build"], "status": "passed", "exitCode": 0,
	           "startedAt": "2026-11-26T09:58:00Z", "finishedAt": "2026-11-26T09:59:12Z", "durationSeconds": 72}
	}`
	doc, err := v.Decode("build.json", []byte(build))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(doc.Kind, doc.ReleaseID, doc.Commit[:7], doc.CollectedAt.Format("15:04"))
	fmt.Println(doc.Digest)

	_, err = v.Decode("bad.json", []byte(`{"kind":"Build","kind":"Deploy"}`))
	var verrs evidence.ValidationErrors
	if errors.As(err, &verrs) {
		fmt.Println(verrs[0].Pointer, verrs[0].Keyword)
	}
	fmt.Println(err)
	// Output:
	// Build lv-2026-11-26.1 3f2c9a0 10:00
	// sha256:0e2dd68469275762afe4e9f369ccfb5e7850d52ef212f0416e19b99afdb4fb83
	// /kind duplicate-key
	// bad.json: /kind: duplicate-key: duplicate key "kind"
}

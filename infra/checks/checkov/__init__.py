# Custom checkov policies for infra/ (loaded with --external-checks-dir).

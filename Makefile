# zooprof: make demo | make test | make bench | make lint (ruff check + ruff format --check)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.zooprof-installed
SEED   := mnist-mlp alexnet-2012 alexnet vgg16 mobilenet_v2 resnet18 resnet50 mobilenet_v3_large
SEED_RESULTS := $(foreach m,mnist-mlp alexnet-2012 vgg16 mobilenet_v2 tm-image-v2,reports/$(m)-profile.json)

.PHONY: install demo test bench lint clean browser ssh catalogue

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: install
	@mkdir -p reports
	$(BIN)/zooprof inspect $(SEED) -o 'reports/{model}.txt'
	$(BIN)/zooprof inspect $(SEED) -o 'reports/{model}.csv'
	$(BIN)/zooprof inspect $(SEED) -o 'reports/{model}.json'
	@$(BIN)/zooprof inspect alexnet-2012 --explain --columns name,op,output_shape,kernel,rf,formula
	$(BIN)/zooprof profile mobilenet_v2 --runtime torch,onnxruntime,tflite --max-time 5 -o reports/mobilenet_v2-profile.json \
	  --report reports/mobilenet_v2.html
	$(BIN)/zooprof profile mnist-mlp alexnet-2012 vgg16 --runtime torch,onnxruntime --max-time 5 \
	  -o 'reports/{model}-profile.json' --report 'reports/{model}.html'
	$(BIN)/zooprof profile tm-image-v2 --runtime tensorflow,tflite --max-time 5 -o reports/tm-image-v2-profile.json \
	  --report reports/tm-image-v2.html
	$(BIN)/zooprof compare $(SEED_RESULTS) -o reports/seed.html
	$(BIN)/zooprof compare $(SEED_RESULTS) -o reports/seed.csv
	@echo "reports written to reports/ (open reports/seed.html)"

test: install browser ssh
	ZOOPROF_REQUIRE_BROWSER=1 ZOOPROF_REQUIRE_SSH=1 $(BIN)/python -m pytest -q

# headless Chromium + ChromeDriver (Debian packages) for the HTML report's browser tests
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
	  { apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	    { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }; }

# OpenSSH server and client (Debian packages) for the remote-board tests (a real sshd on 127.0.0.1)
ssh:
	@command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 && test -x /usr/sbin/sshd || \
	  { apt-get install -y -qq openssh-server openssh-client >/dev/null 2>&1 || \
	    { apt-get update -qq && apt-get install -y -qq openssh-server openssh-client; }; }

bench: install
	@$(BIN)/python bench/bench_inspect.py; a=$$?; $(BIN)/python bench/bench_profile.py; b=$$?; \
	  $(BIN)/python bench/bench_html.py; c=$$?; $(BIN)/python bench/bench_remote.py; d=$$?; \
	  $(BIN)/python bench/bench_gpu.py; e=$$?; $(BIN)/python bench/bench_sweep.py; f=$$?; \
	  $(BIN)/python bench/bench_results.py; g=$$?; exit $$((a | b | c | d | e | f | g))

# every torchvision builder (metadata and FlopCounterMode) and keras.applications model in four forms against its references -> docs/catalogue.md
catalogue: install
	$(BIN)/python bench/catalogue.py --keras --flop-counter --markdown docs/catalogue.md

lint: install
	$(BIN)/ruff check zooprof tests bench
	$(BIN)/ruff format --check zooprof tests bench
	$(BIN)/vermin --no-config-file --target=3.6- --violations --eval-annotations --feature union-types --no-make-paths-absolute $$($(BIN)/python -c "from zooprof.remote import BOARD_MODULES; print(' '.join(BOARD_MODULES))")

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache reports/*.txt reports/*.csv reports/*.json

"""Platform-agnostic features, one package each. Each package's `feature.py` declares what
the feature adds (bot/engine/feature.py); other features may import only its `api.py`. None
imports a platform library; bot/app.py includes them."""

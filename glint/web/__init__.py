"""The web app: server-rendered pages (Jinja2) with small hand-written ES modules, served by
`glint serve` itself."""

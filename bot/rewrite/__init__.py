"""Suggested rewrites: a language model proposes, the checklist and the fact guard check.

Optional: the composition root builds `RewriteService` only when LLM_BASE_URL and LLM_MODEL
are set. `client` talks to any OpenAI-compatible chat-completions server, `prompt` builds the
request from `prompts/rewrite/`, `facts` is the pure fact guard, `service` the use case and
`view` the reply.
"""

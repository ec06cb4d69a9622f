{
  "targets": [
    {
      "target_name": "vecsnap_fadvise",
      "sources": ["fadvise.c"]
    }
  ]
}
